/**
 * Runs that wait for a concurrency slot without holding a worker: flow runs (work queue and
 * deployment limits) and queued task runs (tag limits, a task's `concurrencyLimit`, its rate limit).
 *
 * A run takes a slot of every limit it is under, all or none, without waiting (`take`). One that
 * finds a limit full is noted as that limit's waiter and its BullMQ job goes back to the delayed
 * set (`park`), until the earliest lease would expire: only the fallback for a holder that died
 * without releasing. Whoever frees a slot through a RedisLeaseStore (a lease released, a dead
 * holder's slot freed) promotes the longest-waiting job of that limit (`wakeNext`), which starts
 * at once. No polling interval.
 */

import type { Lease } from "@sluice/core";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import { QueuesByName } from "./bullmq-connection.js";
import type { RedisKeys } from "./keys.js";
import type { RedisLeaseStore } from "./redis-lease-store.js";

/** A limit a run takes one slot of: its lease key ("tag:warehouse", "deployment:<id>") and its size. */
export interface SlotLimit {
  key: string;
  limit: number;
}

export type SlotsTaken<L extends SlotLimit = SlotLimit> =
  /** Every slot is held: release them when the run ends (`release()`, or each lease). */
  | { kind: "held"; leases: Lease[]; release(): Promise<void> }
  /** Every slot of `limit` is taken (no other slot is held); the earliest lease expires in `retryInMs`. */
  | { kind: "busy"; limit: L; retryInMs: number };

/** A parked job looks again at least this often, even if no release woke it. */
const MAX_PARK_MS = 30_000;
const MIN_PARK_MS = 10;

/** The waiter a parked job is noted as: its queue and its id, so whoever frees a slot can promote it. */
export function parkedJobWaiter(queueName: string, jobId: string): string {
  return JSON.stringify([queueName, jobId]);
}

export class ParkedJobs {
  private readonly queues: QueuesByName;

  constructor(
    redis: Redis,
    keys: RedisKeys,
    private readonly leases: RedisLeaseStore,
    /** Told when waking a parked job failed (it still wakes when its delay ends). */
    private readonly onWakeError?: (error: unknown, limitKey: string) => void,
  ) {
    this.queues = new QueuesByName(redis, keys.prefix);
  }

  /**
   * Takes a slot of each limit for `holder`, in the given order (keep it fixed: no two runs each
   * hold a slot the other waits for), all or none. `waiter(limit)` is noted as a waiter of a limit
   * it finds full (undefined: the run will not wait for that one).
   */
  async take<L extends SlotLimit>(
    limits: readonly L[],
    holder: string,
    options: { ttlMs: number; waiter?: (limit: L) => string | undefined },
  ): Promise<SlotsTaken<L>> {
    const held: Lease[] = [];
    const release = () => releaseAll(held);
    for (const limit of limits) {
      const attempt = await this.leases.tryAcquire(limit.key, limit.limit, holder, {
        ttlMs: options.ttlMs,
        waiter: options.waiter?.(limit),
      });
      if (!attempt.lease) {
        await release();
        return { kind: "busy", limit, retryInMs: attempt.retryInMs };
      }
      held.push(attempt.lease);
    }
    return { kind: "held", leases: held, release };
  }

  /**
   * Gives the job back without holding the worker: delayed by `retryInMs` (a fallback, at most
   * 30 s), or until a run that frees a slot of `busy` promotes it (null: nothing promotes it, e.g.
   * a rate limit's window, which frees by itself). The caller then throws BullMQ's DelayedError.
   * Returns the delay.
   */
  async park(job: Job, token: string | undefined, busy: SlotLimit | null, retryInMs: number): Promise<number> {
    const delayMs = Math.min(MAX_PARK_MS, Math.max(MIN_PARK_MS, retryInMs));
    await job.moveToDelayed(Date.now() + delayMs, token);
    // A slot freed between the try and the move found no delayed job to wake: look once more.
    if (busy && (await this.leases.hasFreeSlot(busy.key, busy.limit))) await job.promote().catch(() => {});
    return delayMs;
  }

  /** Frees the slots a holder may still have from a worker that died (it will not run again). */
  async abandon(limits: readonly SlotLimit[], holder: string): Promise<void> {
    for (const limit of limits) await this.leases.releaseHolder(limit.key, holder);
  }

  /**
   * Starts the longest-waiting parked job of the limit (`first`: a waiter already taken off the
   * list). Called by the lease store whenever it frees a slot.
   */
  async wakeNext(limitKey: string, first?: string | null): Promise<void> {
    try {
      let waiter = first === undefined ? await this.leases.nextWaiter(limitKey) : first;
      for (; waiter !== null; waiter = await this.leases.nextWaiter(limitKey)) {
        const parsed = parseWaiter(waiter);
        if (parsed && (await this.promote(parsed.queueName, parsed.jobId))) return;
      }
    } catch (error) {
      this.onWakeError?.(error, limitKey);
    }
  }

  /**
   * Starts a parked job now. True when it is on its way (promoted, or already waiting or being
   * taken, in which case it tries for its slots itself); false when it is gone or finished.
   */
  async promote(queueName: string, jobId: string): Promise<boolean> {
    const job = await this.queues.get(queueName).getJob(jobId);
    if (!job) return false;
    try {
      await job.promote();
      return true;
    } catch {
      // Not delayed any more.
      const state = await job.getState();
      return state === "active" || state === "waiting" || state === "prioritized";
    }
  }

  close(): Promise<void> {
    return this.queues.close();
  }
}

async function releaseAll(leases: readonly Lease[]): Promise<void> {
  for (const lease of leases) await lease.release();
}

function parseWaiter(waiter: string): { queueName: string; jobId: string } | null {
  try {
    const [queueName, jobId] = JSON.parse(waiter) as unknown[];
    return typeof queueName === "string" && typeof jobId === "string" ? { queueName, jobId } : null;
  } catch {
    return null;
  }
}
