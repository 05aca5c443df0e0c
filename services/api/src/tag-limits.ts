/**
 * Tag concurrency limits live in Postgres (the record) and in Redis (what workers read on the hot
 * path, never polling Postgres): the API writes both. A tag's active slots are the holders of its
 * Redis leases (task run ids) whose lease has not expired.
 */
import type { ConcurrencyLimit } from "@sluice/db";
import type { RedisKeys } from "@sluice/queue";
import type { Redis } from "ioredis";

export class TagLimitMirror {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async set(limit: ConcurrencyLimit): Promise<void> {
    await this.redis.hset(this.keys.tagLimits, limit.tag, String(limit.concurrencyLimit));
  }

  async delete(tag: string): Promise<void> {
    await this.redis.hdel(this.keys.tagLimits, tag);
  }

  /** Frees every slot: the holders' leases are dropped (their runs go on; new runs may take the slots). */
  async reset(tag: string): Promise<void> {
    await this.redis.del(this.keys.leaseSlots(this.keys.tagLimitKey(tag)));
    await this.redis.publish(this.keys.leaseFreed(this.keys.tagLimitKey(tag)), "reset");
  }

  /** The holders of each tag's unexpired leases. */
  async activeSlots(tags: string[], now: number = Date.now()): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    if (tags.length === 0) return result;
    const pipeline = this.redis.pipeline();
    for (const tag of tags) pipeline.zrangebyscore(this.keys.leaseSlots(this.keys.tagLimitKey(tag)), now, "+inf");
    const replies = (await pipeline.exec()) ?? [];
    tags.forEach((tag, i) => {
      const [error, holders] = replies[i] ?? [null, []];
      result.set(tag, error ? [] : (holders as string[]));
    });
    return result;
  }
}
