/**
 * Work queue concurrency limits as workers see them: the API mirrors the limited queues of each
 * pool into a Redis hash (queue → limit) and announces every change on a channel; a worker keeps
 * its pool's limits in memory, reloaded on each announcement, so taking a run costs no round trip.
 */
import type { Redis } from "ioredis";
import { type ChannelSubscription, subscribeChannel } from "./channel-subscription.js";
import type { RedisKeys } from "./keys.js";

export interface WorkQueueLimitEntry {
  workPoolName: string;
  queueName: string;
  concurrencyLimit: number;
}

/** Sets (a number) or removes (null) a queue's limit, and tells the pool's workers. */
export async function setWorkQueueLimit(
  redis: Redis,
  keys: RedisKeys,
  workPoolName: string,
  queueName: string,
  limit: number | null,
): Promise<void> {
  if (limit === null) await redis.hdel(keys.workQueueLimits(workPoolName), queueName);
  else await redis.hset(keys.workQueueLimits(workPoolName), queueName, String(limit));
  await redis.publish(keys.workQueueLimitsChanged, workPoolName);
}

/** Replaces the limits of these pools by `limits` (the record's), and tells their workers. */
export async function replaceWorkQueueLimits(
  redis: Redis,
  keys: RedisKeys,
  workPoolNames: string[],
  limits: WorkQueueLimitEntry[],
): Promise<void> {
  const multi = redis.multi();
  for (const pool of workPoolNames) multi.del(keys.workQueueLimits(pool));
  for (const entry of limits) {
    multi.hset(keys.workQueueLimits(entry.workPoolName), entry.queueName, String(entry.concurrencyLimit));
  }
  await multi.exec();
  for (const pool of new Set([...workPoolNames, ...limits.map((entry) => entry.workPoolName)])) {
    await redis.publish(keys.workQueueLimitsChanged, pool);
  }
}

/** A worker's view of its pool's work queue limits, kept up to date. */
export class WorkQueueLimits {
  private limits = new Map<string, number>();
  private subscription: ChannelSubscription | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly workPoolName: string,
  ) {}

  /** Subscribes, then loads (a change made in between is not missed). */
  async start(): Promise<void> {
    this.subscription = await subscribeChannel(
      this.redis,
      this.keys.workQueueLimitsChanged,
      (pool) => {
        if (pool === this.workPoolName) void this.reload();
      },
      // Changes announced while disconnected were missed.
      () => void this.reload(),
    );
    await this.reload();
  }

  /** The queue's limit, or undefined when it has none. */
  limitOf(queueName: string): number | undefined {
    return this.limits.get(queueName);
  }

  private async reload(): Promise<void> {
    try {
      const entries = await this.redis.hgetall(this.keys.workQueueLimits(this.workPoolName));
      this.limits = new Map(Object.entries(entries).map(([queue, limit]) => [queue, Number(limit)]));
    } catch {
      // Kept as they were; the next announcement or reconnection loads them again.
    }
  }

  async close(): Promise<void> {
    this.subscription?.close();
    this.subscription = null;
  }
}
