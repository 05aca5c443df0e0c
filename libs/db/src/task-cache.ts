/** Reading cached task results, and writing the ones too big to travel through the event stream. */

import type pg from "pg";
import type { AnySluiceDb } from "./client.js";
import { and, eq, gt, isNull, or } from "./drizzle.js";
import { storableJson } from "./json-param.js";
import { TASK_CACHE_NEWER_WINS } from "./record-events-sql.js";
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

/**
 * Writes a cache entry whose result is given as its JSON text, as the recorder would write its
 * cache_entry event, but straight away: the text goes to the json column as it is (Postgres
 * checks it, nothing here parses or copies it). A newer entry under the same key (by `created`)
 * is kept.
 */
export async function saveCacheEntryJson(
  pool: pg.Pool,
  cacheKey: string,
  entry: { taskRunId: string; expiresAt: string | null },
  resultJson: string,
  created: Date = new Date(),
): Promise<void> {
  await pool.query({
    name: "sluice_save_cache_entry_json",
    text: `
INSERT INTO task_cache (cache_key, task_run_id, result, expires_at, created)
VALUES ($1, $2::uuid, $3::json, $4::timestamptz, $5)${TASK_CACHE_NEWER_WINS}`,
    values: [cacheKey, entry.taskRunId, storableJson(resultJson), entry.expiresAt, created],
  });
}
