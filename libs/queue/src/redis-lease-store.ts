/**
 * Concurrency slots as Redis leases: a sorted set per limit, holder → expiry time. A holder
 * renews its lease while it runs; one that dies stops renewing and its slot frees itself when the
 * lease expires. Waiters wake on a pub/sub "slot freed" message, or when the earliest lease
 * would expire, never on a fixed polling interval.
 */
import { type AcquireOptions, CancelledError, type Lease, type LeaseStore, sleep } from "@sluice/core";
import type { Redis } from "ioredis";
import type { RedisKeys } from "./keys.js";

/** KEYS[1] = slots zset; ARGV = now, limit, holder, expiresAt. Returns 1 if acquired, else -(ms until the earliest lease expires). */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  return 1
end
local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return -(tonumber(earliest[2]) - tonumber(ARGV[1]))
`;

/** KEYS[1] = starts zset; ARGV = now, max, windowMs, member. Returns 0 if a start was taken, else ms until one frees. */
const THROTTLE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[3]) - tonumber(ARGV[1])
`;

export class RedisLeaseStore implements LeaseStore {
  private subscriber: Redis | null = null;
  private readonly wakers = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async acquire(limitKey: string, limit: number, holder: string, options: AcquireOptions): Promise<Lease> {
    const slots = this.keys.leaseSlots(limitKey);
    const channel = this.keys.leaseFreed(limitKey);
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError();
      const now = Date.now();
      const wakeUp = this.nextWake(channel);
      const result = Number(await this.redis.eval(ACQUIRE, 1, slots, now, limit, holder, now + options.ttlMs));
      if (result === 1) {
        wakeUp.cancel();
        return this.holdLease(slots, channel, holder, options.ttlMs);
      }
      if (attempt === 0) options.onWait?.();
      await wakeUp.wait(Math.max(10, -result), options.signal);
    }
  }

  async throttle(
    limitKey: string,
    max: number,
    windowMs: number,
    options: Omit<AcquireOptions, "ttlMs">,
  ): Promise<void> {
    const key = this.keys.rateWindow(limitKey);
    const member = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError();
      const waitMs = Number(await this.redis.eval(THROTTLE, 1, key, Date.now(), max, windowMs, member));
      if (waitMs <= 0) return;
      if (attempt === 0) options.onWait?.();
      // Sleep exactly until the oldest start leaves the window: no polling interval.
      await sleep(Math.max(1, waitMs), options.signal);
    }
  }

  private holdLease(slots: string, channel: string, holder: string, ttlMs: number): Lease {
    const renew = setInterval(
      () => {
        this.redis.zadd(slots, "XX", Date.now() + ttlMs, holder).catch(() => {});
      },
      Math.max(100, Math.floor(ttlMs / 3)),
    );
    renew.unref();
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(renew);
        await this.redis.zrem(slots, holder);
        await this.redis.publish(channel, holder);
      },
    };
  }

  /** Subscribes before trying, so a slot freed between the try and the wait is not missed. */
  private nextWake(channel: string) {
    let wake: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const set = this.wakers.get(channel) ?? new Set();
    this.wakers.set(channel, set);
    set.add(wake);
    const subscribed = this.subscribe(channel);
    const cancel = () => {
      set.delete(wake);
    };
    return {
      cancel,
      wait: async (maxMs: number, signal?: AbortSignal) => {
        await subscribed;
        if (signal?.aborted) {
          cancel();
          throw signal.reason ?? new CancelledError();
        }
        let timer: NodeJS.Timeout | undefined;
        let onAbort: (() => void) | undefined;
        try {
          await Promise.race([
            woken,
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, maxMs);
            }),
            new Promise<void>((_, reject) => {
              onAbort = () => reject(signal?.reason ?? new CancelledError());
              signal?.addEventListener("abort", onAbort, { once: true });
            }),
          ]);
        } finally {
          clearTimeout(timer);
          if (onAbort) signal?.removeEventListener("abort", onAbort);
          cancel();
        }
      },
    };
  }

  private subscribed = new Map<string, Promise<unknown>>();

  private subscribe(channel: string): Promise<unknown> {
    if (!this.subscriber) {
      this.subscriber = this.redis.duplicate();
      this.subscriber.on("message", (from: string) => {
        for (const wake of this.wakers.get(from) ?? []) wake();
      });
    }
    let done = this.subscribed.get(channel);
    if (!done) {
      done = this.subscriber.subscribe(channel);
      this.subscribed.set(channel, done);
    }
    return done;
  }

  async close(): Promise<void> {
    await this.subscriber?.quit().catch(() => {});
    this.subscriber = null;
  }
}

/** Tag limits as the API mirrors them into Redis (a hash tag → limit): one HMGET per task run with tags. */
export function redisTagLimits(redis: Redis, keys: RedisKeys) {
  return async (tags: readonly string[]): Promise<Map<string, number>> => {
    const limits = new Map<string, number>();
    if (tags.length === 0) return limits;
    const values = await redis.hmget(keys.tagLimits, ...tags);
    tags.forEach((tag, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) limits.set(tag, Number(value));
    });
    return limits;
  };
}
