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

/** What the runs of a chunk have in common: all of a run's job but its id, arguments and index. */
export type ChunkShared = Omit<TaskRunJob, "taskRunId" | "args" | "dynamicKey">;

/** One run of a chunk: its task run id, arguments and index (`TaskRunJob`'s fields of those names). */
export type ChunkRun = [taskRunId: string, args: TaskRunJob["args"], dynamicKey: number];

/**
 * Task runs sharing one job (which of them finished is kept apart, see chunk-progress.ts). Runs
 * of one `.map()` differ only in their id, arguments and index: the rest of their job is written
 * once per chunk. A no-op run's job is then about 60 bytes of JSON instead of 380 (the flow run,
 * the module's path, the reply stream), to serialize, send, keep in Redis and parse again.
 */
export interface TaskRunChunkJob {
  shared: ChunkShared;
  runs: ChunkRun[];
}

/** A chunk job as written before `shared`/`runs`: each run's whole job. Still read, so a queue filled by an older worker drains. */
export interface FullChunkJob {
  chunk: TaskRunJob[];
}

/** What the task-run queue holds: a job per task run, or a chunk of them. */
export type TaskRunQueueJob = TaskRunJob | TaskRunChunkJob | FullChunkJob;

export function isChunkJob(data: TaskRunQueueJob): data is TaskRunChunkJob | FullChunkJob {
  return "runs" in data || "chunk" in data;
}

/** The chunk job of runs that `shareChunk` (the first one's shared fields stand for all). */
export function chunkJob(runs: readonly TaskRunJob[]): TaskRunChunkJob {
  const first = runs[0];
  if (!first) throw new Error("a chunk job needs at least one run");
  // Every field, in one order: the shared part is the run's job minus its own fields.
  const shared: ChunkShared = {
    taskName: first.taskName,
    definedIn: first.definedIn,
    flowRun: first.flowRun,
    logPrints: first.logPrints,
    detached: first.detached,
    traceContext: first.traceContext,
    limited: first.limited,
    module: first.module,
    replyTo: first.replyTo,
    awaitingSlot: first.awaitingSlot,
  };
  return { shared, runs: runs.map((run) => [run.taskRunId, run.args, run.dynamicKey]) };
}

/** Whether two runs' jobs may share a chunk: all but their id, arguments and index are the same. */
export function shareChunk(a: TaskRunJob, b: TaskRunJob): boolean {
  return (
    a.taskName === b.taskName &&
    a.module === b.module &&
    a.definedIn === b.definedIn &&
    a.flowRun?.id === b.flowRun?.id &&
    a.flowRun?.name === b.flowRun?.name &&
    a.flowRun?.flowName === b.flowRun?.flowName &&
    a.logPrints === b.logPrints &&
    a.detached === b.detached &&
    a.limited === b.limited &&
    a.replyTo === b.replyTo &&
    a.awaitingSlot === b.awaitingSlot &&
    // The same span's context (the enqueuer gives each batch's runs of one trace the same object).
    a.traceContext === b.traceContext
  );
}

/** How many task runs a chunk job carries. */
export function chunkSize(data: TaskRunChunkJob | FullChunkJob): number {
  return "runs" in data ? data.runs.length : data.chunk.length;
}

/** The chunk's task runs, each as the job it would have on its own. */
export function runsOfChunk(data: TaskRunChunkJob | FullChunkJob): TaskRunJob[] {
  if (!("runs" in data)) return data.chunk;
  const { shared } = data;
  return data.runs.map(([taskRunId, args, dynamicKey]) => ({
    taskRunId,
    taskName: shared.taskName,
    definedIn: shared.definedIn,
    args,
    dynamicKey,
    flowRun: shared.flowRun,
    logPrints: shared.logPrints,
    detached: shared.detached,
    traceContext: shared.traceContext,
    limited: shared.limited,
    module: shared.module,
    replyTo: shared.replyTo,
    awaitingSlot: shared.awaitingSlot,
  }));
}

export const TASK_RUN_JOB_NAME = "task-run";
export const TASK_RUN_CHUNK_JOB_NAME = "task-run-chunk";

export function taskRunQueueName(workPoolName: string): string {
  return `task-runs.${workPoolName}`;
}
