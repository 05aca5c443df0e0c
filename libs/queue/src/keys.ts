import { tagLimitKey } from "@sluice/core";
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
    /** Recent starts under a rate limit (sorted set: start → time), a sliding window. */
    rateWindow: (limitKey: string) => `${prefix}:rate:${limitKey}`,
    /** Holders waiting for a slot of a limit without holding a worker (sorted set: waiter → since), oldest first. */
    leaseWaiters: (limitKey: string) => `${prefix}:lease-waiters:${limitKey}`,
    /** Pub/sub channel on which a freed slot is announced. */
    leaseFreed: (limitKey: string) => `${prefix}:lease-freed:${limitKey}`,
    /** Tag concurrency limits (hash: tag → limit), kept by the API from Postgres so workers read them here. */
    tagLimits: `${prefix}:tag-limits`,
    /** The lease limit key of a tag's concurrency limit: its slots are `leaseSlots(tagLimitKey(tag))`. */
    tagLimitKey,
    /** A pool's work queue concurrency limits (hash: queue name → limit), kept by the API for workers. */
    workQueueLimits: (workPoolName: string) => `${prefix}:work-queue-limits:${workPoolName}`,
    /** Pub/sub channel on which the API announces a change of a pool's work queue limits (message: the pool). */
    workQueueLimitsChanged: `${prefix}:work-queue-limits-changed`,
    /** Pub/sub channel on which the API announces a flow run being cancelled (message: the run id). */
    cancelChannel: `${prefix}:cancel`,
    /** Set (with a TTL) with each cancel announcement, for a worker that takes the run after it. */
    cancelledMarker: (flowRunId: string) => `${prefix}:cancelled:${flowRunId}`,
    /** Results of queued task runs for the process awaiting them (stream: one entry per finished run). */
    taskRunReplies: (dispatcherId: string) => `${prefix}:task-run-replies:${dispatcherId}`,
    /** The task runs of a chunk job that finished (set, with a TTL): a redelivered chunk skips them. */
    chunkDone: (jobId: string) => `${prefix}:task-run-chunk-done:${jobId}`,
    /** Which worker is running a flow run (set at start, removed at the end): found again after a crash. */
    flowRunHolder: (flowRunId: string) => `${prefix}:flow-run-holder:${flowRunId}`,
  };
}
export type RedisKeys = ReturnType<typeof redisKeys>;
