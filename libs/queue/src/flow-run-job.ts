/** The job a worker receives for a flow run, built from the run's row and its deployment. */
import { type CollisionStrategy, DEFAULT_COLLISION_STRATEGY } from "@sluice/core";
import type { FlowRunJob } from "./flow-run-queue.js";

/** The fields of a flow-run row a job needs (a @sluice/db FlowRun fits). */
export interface FlowRunRowLike {
  id: string;
  name: string;
  deploymentId: string | null;
  parameters: Record<string, unknown>;
  tags: string[];
  nextScheduledStartTime: Date | null;
  expectedStartTime: Date | null;
  workPoolName: string | null;
  workQueueName: string | null;
  runCount?: number;
}

/** What a job needs to know about the run's deployment. */
export interface RunSource {
  flowName: string;
  entrypoint: string | null;
  /** At most this many runs of the deployment at once (null or absent: no limit). */
  concurrencyLimit?: number | null;
  /** What a run finding every slot taken does (default ENQUEUE). */
  collisionStrategy?: CollisionStrategy | null;
}

export const DEFAULT_JOB_WORK_POOL = "default-agent-pool";

export function flowRunJobOf(run: FlowRunRowLike, source: RunSource, now: Date = new Date()): FlowRunJob {
  return {
    flowRunId: run.id,
    flowRunName: run.name,
    flowName: source.flowName,
    deploymentId: run.deploymentId,
    entrypoint: source.entrypoint,
    parameters: run.parameters,
    tags: run.tags,
    scheduledTime: (run.nextScheduledStartTime ?? run.expectedStartTime ?? now).toISOString(),
    workPoolName: run.workPoolName ?? DEFAULT_JOB_WORK_POOL,
    workQueueName: run.workQueueName,
    runCount: run.runCount ?? 0,
    ...(source.concurrencyLimit != null && run.deploymentId !== null
      ? {
          deploymentConcurrency: {
            limit: source.concurrencyLimit,
            collisionStrategy: source.collisionStrategy ?? DEFAULT_COLLISION_STRATEGY,
          },
        }
      : {}),
  };
}
