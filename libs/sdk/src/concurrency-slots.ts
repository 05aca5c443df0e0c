/**
 * Concurrency slots a task run needs before it runs: one per limited tag (Prefect's tag limits)
 * and one for the task's own `concurrencyLimit`. Taken in a fixed order so two runs never hold
 * one slot each while waiting for the other's.
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
  /** Called once, when the first slot is not free right away. */
  onWait: () => void;
}

export async function acquireSlots(engine: Engine, request: SlotRequest): Promise<Lease[]> {
  const limits: [string, number][] = [];
  if (request.tags.length > 0 && engine.tagLimits) {
    for (const [tag, limit] of await engine.tagLimits([...new Set(request.tags)]))
      limits.push([tagLimitKey(tag), limit]);
  }
  if (request.concurrencyLimit !== undefined) limits.push([`task:${request.taskKey}`, request.concurrencyLimit]);
  limits.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const held: Lease[] = [];
  let waited = false;
  const onWait = () => {
    if (!waited) request.onWait();
    waited = true;
  };
  try {
    if (request.rateLimit) {
      await engine.leases.throttle(`task:${request.taskKey}`, request.rateLimit.max, request.rateLimit.durationMs, {
        signal: request.signal,
        onWait,
      });
    }
    for (const [key, limit] of limits) {
      held.push(
        await engine.leases.acquire(key, limit, request.taskRunId, {
          ttlMs: engine.leaseTtlMs ?? 30_000,
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
}

export async function releaseSlots(leases: Lease[]): Promise<void> {
  await Promise.all(leases.map((lease) => lease.release()));
}
