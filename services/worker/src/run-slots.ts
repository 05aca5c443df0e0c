/**
 * Concurrency limits a flow run takes slots of on a worker, as Redis leases: its work queue's
 * (`concurrency_limit` of the pool's queue) and its deployment's (`concurrency_limit`, with
 * Prefect's collision strategy). The holder is the run id, so a run redelivered after its worker
 * crashed takes its own slots back; leases are renewed while the run goes on, released when it
 * ends, and those of a worker that dies expire.
 *
 * A run that finds a limit's slots all taken either is cancelled (a deployment's CANCEL_NEW) or
 * waits (ENQUEUE) without holding a worker slot: its job is parked (see ParkedJobs in @sluice/queue,
 * shared with queued task runs) until a run that frees a slot promotes it.
 */
import { type CollisionStrategy, deploymentLimitKey, workQueueLimitKey } from "@sluice/core";
import {
  type FlowRunJob,
  flowRunQueueName,
  parkedJobWaiter,
  type RedisLeaseStore,
  type SlotLimit,
  type SlotsTaken,
  type WorkQueueLimits,
} from "@sluice/queue";
import type { Job } from "bullmq";

export const DEFAULT_RUN_LEASE_TTL_MS = 30_000;
/** A run without a work queue is in its pool's default queue. */
const DEFAULT_QUEUE = "default";

export interface RunLimit extends SlotLimit {
  /** Its lease key is "deployment:<id>" or "work-queue:<pool>/<queue>". */
  collisionStrategy: CollisionStrategy;
  /** For state messages: "Deployment concurrency limit of 1". */
  description: string;
}

/** "held": release the slots when the run ends; "busy": every slot of `limit` is taken (the run holds no other). */
export type SlotOutcome = SlotsTaken<RunLimit>;

export class RunSlots {
  constructor(
    private readonly leases: RedisLeaseStore,
    private readonly ttlMs: number = DEFAULT_RUN_LEASE_TTL_MS,
    /** The pool's work queue limits (none when absent). */
    private readonly workQueueLimits?: WorkQueueLimits,
  ) {}

  /** The limits a run takes slots of, in a fixed order (no two runs each hold a slot the other waits for). */
  limitsOf(run: FlowRunJob): RunLimit[] {
    const limits: RunLimit[] = [];
    const queueName = run.workQueueName ?? DEFAULT_QUEUE;
    const queueLimit = this.workQueueLimits?.limitOf(queueName);
    if (queueLimit !== undefined) {
      limits.push({
        key: workQueueLimitKey(run.workPoolName, queueName),
        limit: queueLimit,
        collisionStrategy: "ENQUEUE",
        description: `Work queue '${queueName}' concurrency limit of ${queueLimit}`,
      });
    }
    const deployment = run.deploymentConcurrency;
    if (deployment && run.deploymentId) {
      limits.push({
        key: deploymentLimitKey(run.deploymentId),
        limit: deployment.limit,
        collisionStrategy: deployment.collisionStrategy,
        description: `Deployment concurrency limit of ${deployment.limit}`,
      });
    }
    return limits;
  }

  /** Takes the run's slots, all or none (null when the run has no limit). */
  async take(run: FlowRunJob): Promise<SlotOutcome | null> {
    const limits = this.limitsOf(run);
    if (limits.length === 0) return null;
    const waiter = parkedJobWaiter(flowRunQueueName(run.workPoolName), run.flowRunId);
    return this.leases.parked.take(limits, run.flowRunId, {
      ttlMs: this.ttlMs,
      // Only a run that will wait is woken when a slot frees; a cancelled one is not.
      waiter: (limit) => (limit.collisionStrategy === "ENQUEUE" ? waiter : undefined),
    });
  }

  /**
   * Gives the job back without holding the worker, until a run that frees a slot of `busy`
   * promotes it (or, as a fallback, until the earliest lease would expire). The caller then throws
   * BullMQ's DelayedError.
   */
  async park(job: Job<FlowRunJob>, token: string | undefined, busy: RunLimit, retryInMs: number): Promise<void> {
    await this.leases.parked.park(job, token, busy, retryInMs);
  }

  /** Frees the slots a run may still hold from a worker that died (it will not run again). */
  async abandon(run: FlowRunJob): Promise<void> {
    await this.leases.parked.abandon(this.limitsOf(run), run.flowRunId);
  }
}
