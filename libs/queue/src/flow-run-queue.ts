/**
 * The flow-run queues: one BullMQ queue per work pool. The API (and the scheduler) enqueue a job
 * whose id is the flow run id, so enqueueing the same run twice is harmless; the job carries
 * everything a worker needs to run it, so workers never read Postgres.
 */

import type { CollisionStrategy } from "@sluice/core";
import { withProducerSpan } from "@sluice/telemetry";
import type { Queue, QueueOptions } from "bullmq";
import type { Redis } from "ioredis";
import { QueuesByName } from "./bullmq-connection.js";
import { DEFAULT_JOB_WORK_POOL } from "./flow-run-job.js";

export interface FlowRunJob {
  flowRunId: string;
  flowRunName: string;
  flowName: string;
  deploymentId: string | null;
  /** Where the flow's code is: "path/to/file.ts:exportName", relative to the worker's flows directory. */
  entrypoint: string | null;
  parameters: Record<string, unknown>;
  tags: string[];
  /** When the run is due (ISO); the job is delayed until then. */
  scheduledTime: string;
  workPoolName: string;
  workQueueName: string | null;
  /** Attempts the run already had (a retried run goes on counting). */
  runCount?: number;
  /** The deployment's concurrency limit, when it has one (as it was when the run was enqueued). */
  deploymentConcurrency?: DeploymentConcurrency | null;
  /** Set once the run was recorded AwaitingConcurrencySlot (it is not recorded again each time it waits). */
  awaitingSlot?: boolean;
  /** W3C trace context of the enqueueing span (tracing on): the worker's spans join that trace. */
  traceContext?: Record<string, string>;
}

export interface DeploymentConcurrency {
  limit: number;
  collisionStrategy: CollisionStrategy;
}

export const FLOW_RUN_JOB_NAME = "flow-run";

export function flowRunQueueName(workPoolName: string): string {
  return `flow-runs.${workPoolName}`;
}

/** A flow run whose job is looked up or removed: its id (the job's) and its pool (default if none). */
export interface QueuedRun {
  id: string;
  workPoolName: string | null;
}

const poolOf = (run: QueuedRun) => run.workPoolName ?? DEFAULT_JOB_WORK_POOL;

/** Enqueues flow runs on their pool's queue (queues opened lazily, one per pool). */
export class FlowRunQueues {
  /** The pools' flow-run queues, and any other queue of theirs (`other`). */
  private readonly queues: QueuesByName;

  constructor(
    private readonly connection: Redis,
    prefix: string,
    queueOptions: Partial<QueueOptions> = {},
  ) {
    this.queues = new QueuesByName(connection, prefix, queueOptions);
  }

  queue(workPoolName: string): Queue<FlowRunJob> {
    return this.queues.get<FlowRunJob>(flowRunQueueName(workPoolName));
  }

  /** Another queue by its full name (a pool's task-run queue), on the same connection. */
  other(name: string): Queue {
    return this.queues.get(name);
  }

  async enqueue(job: FlowRunJob, now = Date.now()): Promise<void> {
    const delay = Math.max(0, Date.parse(job.scheduledTime) - now);
    const queue = this.queue(job.workPoolName);
    await withProducerSpan(queue.name, job.flowRunId, (traceContext) =>
      queue.add(FLOW_RUN_JOB_NAME, traceContext ? { ...job, traceContext } : job, {
        jobId: job.flowRunId,
        delay,
        // Retries are the engine's business (flow retries, crash recovery); BullMQ delivers once.
        attempts: 1,
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 24 * 3600 },
      }),
    );
  }

  /** Whether the run's job is still in Redis (waiting, delayed, active, or kept finished). */
  async has(workPoolName: string, flowRunId: string): Promise<boolean> {
    return (await this.missing([{ id: flowRunId, workPoolName }])).length === 0;
  }

  /** Which of these runs have no job in Redis, in one round trip (for the reconciler). */
  async missing(runs: readonly QueuedRun[]): Promise<string[]> {
    if (runs.length === 0) return [];
    const pipeline = this.connection.pipeline();
    for (const run of runs) pipeline.exists(this.queue(poolOf(run)).toKey(run.id));
    const replies = (await pipeline.exec()) ?? [];
    return runs.flatMap((run, index) => {
      const [error, count] = replies[index] ?? [new Error("no reply from Redis"), null];
      if (error) throw error;
      return count === 0 ? [run.id] : [];
    });
  }

  /**
   * Removes the run's job unless a worker holds it (a finished one too, so the run can be enqueued
   * again); true only when that job had not been taken yet (it was waiting or delayed). BullMQ's
   * own `remove` answers 1 for a job that does not exist and for one that finished, so it is asked
   * the job's state first: a cancel takes "removed" to mean the run never started, and records it
   * Cancelled without telling anyone.
   */
  async remove(workPoolName: string, flowRunId: string): Promise<boolean> {
    return (await this.withdrawJob(workPoolName, flowRunId)) === "removed";
  }

  /** `remove`, saying also when there was no job at all ("missing"); "kept": a worker has or had it. */
  private async withdrawJob(workPoolName: string, flowRunId: string): Promise<"removed" | "missing" | "kept"> {
    const queue = this.queue(workPoolName);
    const state = await queue.getJobState(flowRunId);
    if (state === "unknown") return "missing";
    if (state === "active") return "kept";
    // Taken by a worker meanwhile: locked, so BullMQ leaves it and answers 0.
    const removed = (await queue.remove(flowRunId)) > 0;
    return removed && state !== "completed" && state !== "failed" ? "removed" : "kept";
  }

  /**
   * Removes the jobs of runs that will not run, all at once (a job a worker holds stays): the ids
   * of the runs whose job was removed, of those that had no job, and the runs whose removal
   * failed, with why.
   */
  async removeAll(
    runs: readonly QueuedRun[],
  ): Promise<{ removed: Set<string>; missing: Set<string>; failed: { id: string; error: unknown }[] }> {
    const removed = new Set<string>();
    const missing = new Set<string>();
    const failed: { id: string; error: unknown }[] = [];
    await Promise.all(
      runs.map(async (run) => {
        try {
          const outcome = await this.withdrawJob(poolOf(run), run.id);
          if (outcome === "removed") removed.add(run.id);
          else if (outcome === "missing") missing.add(run.id);
        } catch (error) {
          failed.push({ id: run.id, error });
        }
      }),
    );
    return { removed, missing, failed };
  }

  close(): Promise<void> {
    return this.queues.close();
  }
}
