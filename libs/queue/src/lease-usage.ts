/**
 * Concurrency slots in use, for the metrics: every limit enforced with Redis leases (tag limits,
 * task `concurrencyLimit`s, deployment limits) is a sorted set `PREFIX:lease:LIMIT`, found with
 * SCAN at scrape time; its unexpired leases are the slots in use. Tag limits' sizes are in Redis too.
 */
import type { Redis } from "ioredis";
import type { RedisKeys } from "./keys.js";

export interface LeaseUsage {
  /** Slots in use by limit key ("tag:warehouse", "task:load", "deployment:…"). */
  inUse: Map<string, number>;
  /** The size of the limits Redis knows (tag limits), by limit key. */
  limits: Map<string, number>;
}

export async function readLeaseUsage(redis: Redis, keys: RedisKeys, now = Date.now()): Promise<LeaseUsage> {
  const slotsPrefix = keys.leaseSlots("");
  const found: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${slotsPrefix}*`, "COUNT", 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== "0");
  const limitKeys = [...new Set(found)];
  const pipeline = redis.pipeline();
  for (const key of limitKeys) pipeline.zcount(key, now, "+inf");
  pipeline.hgetall(keys.tagLimits);
  const replies = (await pipeline.exec()) ?? [];
  const inUse = new Map<string, number>();
  limitKeys.forEach((key, i) => {
    const [error, count] = replies[i] ?? [null, 0];
    if (!error) inUse.set(key.slice(slotsPrefix.length), Number(count));
  });
  const limits = new Map<string, number>();
  const [tagError, tagLimits] = replies[limitKeys.length] ?? [null, {}];
  if (!tagError) {
    for (const [tag, limit] of Object.entries((tagLimits ?? {}) as Record<string, string>)) {
      const key = keys.tagLimitKey(tag);
      limits.set(key, Number(limit));
      if (!inUse.has(key)) inUse.set(key, 0);
    }
  }
  return { inUse, limits };
}
