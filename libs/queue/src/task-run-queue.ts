/**
 * The task-run queues: one BullMQ queue per work pool, for task runs submitted with `.submit()`,
 * `.map()` or `.delay()` by a flow running on a worker. The job id is the task run id; the job
 * carries the task's module (relative to the flows directory), its name, its arguments and where
 * to send the result: the submitter's reply stream (see task-run-replies.ts), read without polling.
 *
 * Runs a flow submits together (a `.map()`) share jobs: a chunk job carries several task runs,
 * which the worker runs as if each had a job of its own. That costs BullMQ's per-job work (three
 * scripts in Redis, a lock, the worker's bookkeeping) once per chunk instead of once per run. Runs
 * of limited tasks (`TaskRunRequest.limited`) keep a job each: waiting for a slot parks that job.
 */
import type { PayloadRef, TaskRunRequest } from "@sluice/core";

export interface TaskRunJob extends Omit<TaskRunRequest, "args"> {
  /** The arguments, or a reference to them in the result store when large (see task-run-payloads.ts). */
  args: unknown[] | PayloadRef;
  /** The module defining the task, relative to the workers' flows directory. */
  module: string;
  /** The reply stream of the process awaiting the result (null: nobody awaits it, `.delay()`). */
  replyTo: string | null;
  /** Set once the run was recorded (created, Pending, AwaitingConcurrencySlot) while it waited for a slot off the worker. */
  awaitingSlot?: boolean;
}

/** Task runs sharing one job (which of them finished is kept apart, see chunk-progress.ts). */
export interface TaskRunChunkJob {
  chunk: TaskRunJob[];
}

/** What the task-run queue holds: a job per task run, or a chunk of them. */
export type TaskRunQueueJob = TaskRunJob | TaskRunChunkJob;

export function isChunkJob(data: TaskRunQueueJob): data is TaskRunChunkJob {
  return "chunk" in data;
}

export const TASK_RUN_JOB_NAME = "task-run";
export const TASK_RUN_CHUNK_JOB_NAME = "task-run-chunk";

export function taskRunQueueName(workPoolName: string): string {
  return `task-runs.${workPoolName}`;
}
