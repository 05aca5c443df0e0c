/**
 * The task-run queues: one BullMQ queue per work pool, for task runs submitted with `.submit()`,
 * `.map()` or `.delay()` by a flow running on a worker. The job id is the task run id; the job
 * carries the task's module (relative to the flows directory), its name, its arguments and where
 * to send the result: the submitter's reply stream (see task-run-replies.ts), read without polling.
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

export const TASK_RUN_JOB_NAME = "task-run";

export function taskRunQueueName(workPoolName: string): string {
  return `task-runs.${workPoolName}`;
}
