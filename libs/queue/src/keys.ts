/** Every Redis key Sluice uses lives under one prefix, so tests (and tenants) never collide. */
export const DEFAULT_PREFIX = "sluice";

export function redisKeys(prefix: string = DEFAULT_PREFIX) {
  return {
    prefix,
    /** Stream of run events (states, logs, cache entries) drained by the recorder. */
    eventStream: `${prefix}:events`,
    /** Consumer group of the recorders on the event stream. */
    recorderGroup: "recorders",
    /** Cached task results: `${cacheEntry}:${cacheKey}`. */
    cacheEntry: (cacheKey: string) => `${prefix}:cache:${cacheKey}`,
    /** Concurrency slot holders for a limit (sorted set: holder → lease expiry). */
    leaseSlots: (limitKey: string) => `${prefix}:lease:${limitKey}`,
    /** Pub/sub channel on which a freed slot is announced. */
    leaseFreed: (limitKey: string) => `${prefix}:lease-freed:${limitKey}`,
    /** Tag concurrency limits (hash: tag → limit), kept by the API from Postgres so workers read them here. */
    tagLimits: `${prefix}:tag-limits`,
    /** The lease limit key of a tag's concurrency limit: its slots are `leaseSlots(tagLimitKey(tag))`. */
    tagLimitKey: (tag: string) => `tag:${tag}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
