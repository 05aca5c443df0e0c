/**
 * Concurrency slots as Redis leases: a sorted set per limit, holder → expiry time. A holder
 * renews its lease while it runs; one that dies stops renewing and its slot frees itself when the
 * lease expires. Waiters wake on a pub/sub "slot freed" message, or when the earliest lease
 * would expire, never on a fixed polling interval. Runs parked off their worker while they wait
 * (see ParkedJobs) are woken by whoever frees a slot through this store: releasing also promotes
 * the limit's longest-waiting parked job.
 */
import { type AcquireOptions, CancelledError, type Lease, type LeaseStore, sleep } from "@sluice/core";
import type { Redis } from "ioredis";
import type { RedisKeys } from "./keys.js";
import { ParkedJobs } from "./parked-jobs.js";

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

/**
 * KEYS[1] = slots zset, KEYS[2] = waiters zset; ARGV = now, limit, holder, expiresAt, waiter ("" for
 * none), waitersTtlMs. As ACQUIRE, without waiting: on success the holder is no longer a waiter; on
 * failure the waiter is noted (keeping its first arrival time) and -(ms until the earliest lease
 * expires) is returned.
 */
const TRY_ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
  if ARGV[5] ~= '' then redis.call('ZREM', KEYS[2], ARGV[5]) end
  return 1
end
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #earliest == 0 then return -(tonumber(ARGV[4]) - tonumber(ARGV[1])) end
return -math.max(1, tonumber(earliest[2]) - tonumber(ARGV[1]))
`;

/**
 * KEYS[1] = slots zset, KEYS[2] = waiters zset; ARGV = holder, freed channel. Frees the holder's
 * slot (announced on the channel) and returns {1, the longest waiter or false}, or {0, false} when
 * the holder had no slot.
 */
const RELEASE = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return {0, false} end
redis.call('PUBLISH', ARGV[2], ARGV[1])
local waiter = redis.call('ZPOPMIN', KEYS[2])
return {1, waiter[1] or false}
`;

/** How long a limit's waiter list outlives its last newcomer (stale entries of runs that went away expire). */
const WAITERS_TTL_MS = 24 * 3600 * 1000;

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
  /** Jobs waiting for a slot off their worker: taking slots without waiting, parking, waking. */
  readonly parked: ParkedJobs;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    /** Told when waking a parked job failed (it still wakes when its delay ends). */
    onWakeError?: (error: unknown, limitKey: string) => void,
  ) {
    this.parked = new ParkedJobs(redis, keys, this, onWakeError);
  }

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
        return this.holdLease(limitKey, holder, options.ttlMs);
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
    const member = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError();
      const waitMs = await this.tryThrottle(limitKey, max, windowMs, member);
      if (waitMs <= 0) return;
      if (attempt === 0) options.onWait?.();
      // Sleep exactly until the oldest start leaves the window: no polling interval.
      await sleep(Math.max(1, waitMs), options.signal);
    }
  }

  /** One try at a start under a rate limit, without waiting: 0 when taken, else the ms until the oldest start leaves the window. */
  async tryThrottle(
    limitKey: string,
    max: number,
    windowMs: number,
    member = `${Date.now()}-${Math.random().toString(36).slice(2)}`,
  ): Promise<number> {
    const key = this.keys.rateWindow(limitKey);
    return Math.max(0, Number(await this.redis.eval(THROTTLE, 1, key, Date.now(), max, windowMs, member)));
  }

  /**
   * One try, without waiting (for a holder that must not block while it waits, like a queued flow
   * run that gives its worker slot back): the lease, or null with the time until the earliest lease
   * expires. A `waiter` that gets no slot is noted, oldest first, for whoever frees a slot to wake
   * (`nextWaiter`); taking a slot removes it.
   */
  async tryAcquire(
    limitKey: string,
    limit: number,
    holder: string,
    options: { ttlMs: number; waiter?: string },
  ): Promise<{ lease: Lease; retryInMs: 0 } | { lease: null; retryInMs: number }> {
    const slots = this.keys.leaseSlots(limitKey);
    const now = Date.now();
    const result = Number(
      await this.redis.eval(
        TRY_ACQUIRE,
        2,
        slots,
        this.keys.leaseWaiters(limitKey),
        now,
        limit,
        holder,
        now + options.ttlMs,
        options.waiter ?? "",
        WAITERS_TTL_MS,
      ),
    );
    if (result === 1) {
      return { lease: this.holdLease(limitKey, holder, options.ttlMs), retryInMs: 0 };
    }
    return { lease: null, retryInMs: -result };
  }

  /** Removes and returns the longest-waiting waiter of a limit, or null when none waits. */
  async nextWaiter(limitKey: string): Promise<string | null> {
    const [waiter] = await this.redis.zpopmin(this.keys.leaseWaiters(limitKey));
    return waiter ?? null;
  }

  /** Whether a slot of the limit is free now. */
  async hasFreeSlot(limitKey: string, limit: number): Promise<boolean> {
    return (await this.redis.zcount(this.keys.leaseSlots(limitKey), Date.now(), "+inf")) < limit;
  }

  /** Frees a holder's slot from outside its lease (a holder that died and will not run again). */
  async releaseHolder(limitKey: string, holder: string): Promise<boolean> {
    return this.free(limitKey, holder);
  }

  /** Frees the holder's slot, announces it to blocked acquirers and wakes the longest-waiting parked job. */
  private async free(limitKey: string, holder: string): Promise<boolean> {
    const [removed, waiter] = (await this.redis.eval(
      RELEASE,
      2,
      this.keys.leaseSlots(limitKey),
      this.keys.leaseWaiters(limitKey),
      holder,
      this.keys.leaseFreed(limitKey),
    )) as [number, string | null];
    if (waiter) await this.parked.wakeNext(limitKey, waiter);
    return removed === 1;
  }

  private holdLease(limitKey: string, holder: string, ttlMs: number): Lease {
    const slots = this.keys.leaseSlots(limitKey);
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
        await this.free(limitKey, holder);
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
    await this.parked.close();
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
