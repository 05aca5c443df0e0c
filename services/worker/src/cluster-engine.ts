/**
 * The engine's ports in cluster mode: events on the Redis stream, task cache in Redis backed by
 * Postgres (big results in Postgres only), leases in Redis, `.submit()` concurrency in process,
 * and Postgres for flow code's `useDatabase()`. Shared by `sluice run` and the workers.
 */
import { randomUUID } from "node:crypto";
import type { SqlDatabase } from "@sluice/core";
import { type Database, getCacheEntry, saveCacheEntryJson } from "@sluice/db";
import { RedisCacheStore, RedisEventSink, type RedisKeys, RedisLeaseStore, redisTagLimits } from "@sluice/queue";
import { type Engine, InProcessTaskDispatcher } from "@sluice/sdk";
import type { Redis } from "ioredis";
import type pg from "pg";

export interface ClusterEngine {
  engine: Engine;
  events: RedisEventSink;
  leases: RedisLeaseStore;
}

export function buildClusterEngine(redis: Redis, database: Database, keys: RedisKeys): ClusterEngine {
  const events = new RedisEventSink(redis, keys.eventStream);
  const cache = new RedisCacheStore(redis, keys, {
    load: async (cacheKey) => {
      const entry = await getCacheEntry(database.db, cacheKey);
      return (
        entry && { taskRunId: entry.taskRunId, result: entry.result, expiresAt: entry.expiresAt?.toISOString() ?? null }
      );
    },
    save: (cacheKey, entry) =>
      events.emit({
        kind: "cache_entry",
        id: randomUUID(),
        timestamp: new Date().toISOString(),
        cacheKey,
        taskRunId: entry.taskRunId,
        expiresAt: entry.expiresAt,
        result: entry.result,
      }),
    saveLarge: (cacheKey, entry, resultJson) => saveCacheEntryJson(database.pool, cacheKey, entry, resultJson),
  });
  const leases = new RedisLeaseStore(redis, keys);
  const engine: Engine = {
    events,
    cache,
    leases,
    dispatcher: new InProcessTaskDispatcher(),
    database: pgSqlDatabase(database.pool),
    tagLimits: redisTagLimits(redis, keys),
  };
  return { engine, events, leases };
}

/** SqlDatabase over a pg pool: what `useDatabase()` gives flow code in cluster mode. */
export function pgSqlDatabase(pool: pg.Pool): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => {
      const result = await pool.query(text, params);
      return { rows: result.rows as Row[] };
    },
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work({
          query: async <Row>(text: string, params?: unknown[]) => ({
            rows: (await client.query(text, params)).rows as Row[],
          }),
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
