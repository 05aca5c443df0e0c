/**
 * The task-run queues: one BullMQ queue per work pool, for task runs submitted with `.submit()`,
 * `.map()` or `.delay()` by a flow running on a worker. The job id is the task run id; the job
 * carries the task's module (relative to the flows directory), its name and its arguments; its
 * return value is the result, which the submitter awaits through BullMQ's queue events (Redis
 * streams), never by polling.
 */
import type { TaskRunRequest } from "@sluice/core";

export interface TaskRunJob extends TaskRunRequest {
  /** The module defining the task, relative to the workers' flows directory. */
  module: string;
}

export const TASK_RUN_JOB_NAME = "task-run";

export function taskRunQueueName(workPoolName: string): string {
  return `task-runs.${workPoolName}`;
}
