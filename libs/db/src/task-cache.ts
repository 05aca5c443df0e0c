/** Reading cached task results, and writing the ones too big to travel through the event stream. */
import { and, eq, gt, isNull, or } from "drizzle-orm";
import type pg from "pg";
import type { AnySluiceDb } from "./client.js";
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
 * Writes a cache entry given as its JSON text (`{ taskRunId, result, expiresAt }`), as the recorder
 * would write its cache_entry event: Postgres parses the text once, nothing here copies the result.
 * A newer entry under the same key (by `created`) is kept.
 */
export async function saveCacheEntryJson(
  pool: pg.Pool,
  cacheKey: string,
  entryJson: string,
  created: Date = new Date(),
): Promise<void> {
  await pool.query({
    name: "sluice_save_cache_entry_json",
    text: `
INSERT INTO task_cache (cache_key, task_run_id, result, expires_at, created)
SELECT $1, (e->>'taskRunId')::uuid, e->'result', (e->>'expiresAt')::timestamptz, $3
FROM (SELECT $2::jsonb AS e) AS entry${TASK_CACHE_NEWER_WINS}`,
    values: [cacheKey, storableJson(entryJson), created],
  });
}
