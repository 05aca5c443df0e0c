/**
 * Work queue concurrency limits live in Postgres (the record) and in Redis (what workers enforce,
 * in memory, reloaded when the API announces a change): the API writes both. At start the API
 * copies the record's limits, and each pool's own limit and pause, into Redis again, so a Redis
 * that lost them (restarted empty, flushed) enforces them anyway.
 */
import { type AnySluiceDb, listWorkPools, listWorkQueueLimits } from "@sluice/db";
import { type RedisKeys, replaceWorkQueueLimits, setWorkQueueLimit } from "@sluice/queue";
import type { Redis } from "ioredis";
import type { FlowRunDispatcher } from "./run-queue.js";

/** More pools than any deployment has; the start-up copy reads them in one query. */
const MAX_POOLS = 100_000;

export class WorkQueueLimitMirror {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async set(workPoolName: string, queueName: string, limit: number | null): Promise<void> {
    await setWorkQueueLimit(this.redis, this.keys, workPoolName, queueName, limit);
  }

  /** A deleted pool's queues limit nothing any more. */
  async dropPool(workPoolName: string): Promise<void> {
    await replaceWorkQueueLimits(this.redis, this.keys, [workPoolName], []);
  }

  /** Copies every pool's settings and its queues' limits from the record into Redis. */
  async syncAll(db: AnySluiceDb, dispatcher: FlowRunDispatcher): Promise<void> {
    const pools = await listWorkPools(db, { limit: MAX_POOLS });
    for (const pool of pools) await dispatcher.applyPoolSettings(pool);
    await replaceWorkQueueLimits(
      this.redis,
      this.keys,
      pools.map((pool) => pool.name),
      await listWorkQueueLimits(db),
    );
  }
}
