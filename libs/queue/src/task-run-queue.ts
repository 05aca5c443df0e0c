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

/**
 * A chunk job as written before `shared`/`runs`: each run's whole job. Still read, so a queue
 * filled by an older worker drains. The reverse does not hold: a worker from before cannot read
 * `shared`/`runs`, so a pool's workers are upgraded together (as `docker compose up` does).
 */
export interface FullChunkJob {
  chunk: TaskRunJob[];
}

/** What the task-run queue holds: a job per task run, or a chunk of them. */
export type TaskRunQueueJob = TaskRunJob | TaskRunChunkJob | FullChunkJob;

export function isChunkJob(data: TaskRunQueueJob): data is TaskRunChunkJob | FullChunkJob {
  return "runs" in data || "chunk" in data;
}

/**
 * The fields of `ChunkShared`, each once: the compiler refuses this object when `TaskRunJob` gains
 * a field it does not list, so a new field is never dropped from chunks nor left out of
 * `shareChunk`'s comparison.
 */
const SHARED_FIELDS: Record<keyof ChunkShared, true> = {
  taskName: true,
  definedIn: true,
  flowRun: true,
  logPrints: true,
  detached: true,
  traceContext: true,
  limited: true,
  module: true,
  replyTo: true,
  awaitingSlot: true,
};
const sharedFields = Object.keys(SHARED_FIELDS) as (keyof ChunkShared)[];

/** The chunk job of runs that `shareChunk` (the first one's shared fields stand for all). */
export function chunkJob(runs: readonly TaskRunJob[]): TaskRunChunkJob {
  const first = runs[0];
  if (!first) throw new Error("a chunk job needs at least one run");
  const shared = Object.fromEntries(sharedFields.map((field) => [field, first[field]])) as ChunkShared;
  return { shared, runs: runs.map((run) => [run.taskRunId, run.args, run.dynamicKey]) };
}

/**
 * Whether two runs' jobs may share a chunk: all but their id, arguments and index are the same.
 * The flow run by its fields; the trace context as the same object (the enqueuer gives the runs of
 * one trace in a batch the same one).
 */
export function shareChunk(a: TaskRunJob, b: TaskRunJob): boolean {
  return sharedFields.every((field) =>
    field === "flowRun"
      ? a.flowRun?.id === b.flowRun?.id &&
        a.flowRun?.name === b.flowRun?.name &&
        a.flowRun?.flowName === b.flowRun?.flowName
      : a[field] === b[field],
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
  return data.runs.map(([taskRunId, args, dynamicKey]) => ({ ...shared, taskRunId, args, dynamicKey }));
}

export const TASK_RUN_JOB_NAME = "task-run";
export const TASK_RUN_CHUNK_JOB_NAME = "task-run-chunk";

export function taskRunQueueName(workPoolName: string): string {
  return `task-runs.${workPoolName}`;
}
