/** Reading cached task results. */
import { and, eq, gt, isNull, or } from "drizzle-orm";
import type { AnySluiceDb } from "./client.js";
import { type TaskCacheEntry, taskCache } from "./schema.js";

/** The entry cached under `cacheKey`, or null when there is none or it has expired at `now`. */
export async function getCacheEntry(
  db: AnySluiceDb,
  cacheKey: string,
  now: Date = new Date(),
): Promise<TaskCacheEntry | null> {
  const [row] = await db
    .select()
    .from(taskCache)
    .where(and(eq(taskCache.cacheKey, cacheKey), or(isNull(taskCache.expiresAt), gt(taskCache.expiresAt, now))))
    .limit(1);
  return row ?? null;
}
