/**
 * Concurrency slots a task run needs before it runs: one per limited tag (Prefect's tag limits)
 * and one for the task's own `concurrencyLimit`, plus a start under its rate limit. Taken in a
 * fixed order so two runs never hold one slot each while waiting for the other's.
 *
 * How they are taken is the caller's choice (a SlotAcquirer): an inline task run waits for them
 * where it is (`acquireSlots`); a queued one's worker may instead give the run's job back until a
 * slot frees, so the run holds no worker slot while it waits.
 */
import { type Lease, tagLimitKey } from "@sluice/core";
import type { Engine } from "./engine.js";

export interface SlotRequest {
  taskKey: string;
  taskRunId: string;
  tags: readonly string[];
  concurrencyLimit: number | undefined;
  /** At most `max` starts of this task per `durationMs`, across every process sharing the lease store. */
  rateLimit: { max: number; durationMs: number } | undefined;
  signal: AbortSignal;
  /** Called once, when the first slot is not free right away (the run is then AwaitingConcurrencySlot). */
  onWait: () => void;
}

/** Takes a task run's slots (and its start under a rate limit): the leases to release when it ends. */
export type SlotAcquirer = (engine: Engine, request: SlotRequest) => Promise<Lease[]>;

/** A limit a task run takes one slot of: its lease key and its size. */
export interface TaskSlotLimit {
  key: string;
  limit: number;
}

/** Default time-to-live of a concurrency lease (renewed while held). */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** The lease key of a task's rate limit window. */
export function rateLimitKey(taskKey: string): string {
  return `task:${taskKey}`;
}

/** The limits a task run takes a slot of, in the fixed order they are taken. */
export async function slotLimitsOf(
  engine: Engine,
  request: Pick<SlotRequest, "taskKey" | "tags" | "concurrencyLimit">,
): Promise<TaskSlotLimit[]> {
  const limits: TaskSlotLimit[] = [];
  if (request.tags.length > 0 && engine.tagLimits) {
    for (const [tag, limit] of await engine.tagLimits([...new Set(request.tags)]))
      limits.push({ key: tagLimitKey(tag), limit });
  }
  if (request.concurrencyLimit !== undefined)
    limits.push({ key: `task:${request.taskKey}`, limit: request.concurrencyLimit });
  return limits.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Waits where it is until it has every slot (inline task runs, and any run without a job to give back). */
export const acquireSlots: SlotAcquirer = async (engine, request) => {
  const limits = await slotLimitsOf(engine, request);
  const held: Lease[] = [];
  let waited = false;
  const onWait = () => {
    if (!waited) request.onWait();
    waited = true;
  };
  try {
    if (request.rateLimit) {
      await engine.leases.throttle(rateLimitKey(request.taskKey), request.rateLimit.max, request.rateLimit.durationMs, {
        signal: request.signal,
        onWait,
      });
    }
    for (const { key, limit } of limits) {
      held.push(
        await engine.leases.acquire(key, limit, request.taskRunId, {
          ttlMs: engine.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
          signal: request.signal,
          onWait,
        }),
      );
    }
    return held;
  } catch (error) {
    await releaseSlots(held);
    throw error;
  }
};

export async function releaseSlots(leases: Lease[]): Promise<void> {
  await Promise.all(leases.map((lease) => lease.release()));
}
