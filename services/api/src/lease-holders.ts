/**
 * Who holds the slots of concurrency limits enforced with Redis leases (deployment limits): the
 * holders (flow run ids) of each limit's unexpired leases, read in one round trip.
 */
import type { RedisKeys } from "@sluice/queue";
import type { Redis } from "ioredis";

export type LeaseHolders = (limitKeys: string[]) => Promise<Map<string, string[]>>;

export function redisLeaseHolders(redis: Redis, keys: RedisKeys): LeaseHolders {
  return async (limitKeys) => {
    const result = new Map<string, string[]>();
    if (limitKeys.length === 0) return result;
    const now = Date.now();
    const pipeline = redis.pipeline();
    for (const key of limitKeys) pipeline.zrangebyscore(keys.leaseSlots(key), now, "+inf");
    const replies = (await pipeline.exec()) ?? [];
    limitKeys.forEach((key, i) => {
      const [error, holders] = replies[i] ?? [null, []];
      result.set(key, error ? [] : (holders as string[]));
    });
    return result;
  };
}
