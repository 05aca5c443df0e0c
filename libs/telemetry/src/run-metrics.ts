/**
 * What the engine reports for the metrics, at the points where it happens: a run reaching a final
 * state, a job taken from a queue. Nothing is kept here: a process that serves `/metrics` installs
 * a sink (see `createServiceMetrics`), and without one each call is a single null check.
 */
export type MetricsRunKind = "flow_run" | "task_run";

export interface RunMetricsSink {
  /** `seconds`: from the run's first Running to its final state (undefined if it never ran). */
  runFinished(kind: MetricsRunKind, name: string, state: string, seconds: number | undefined): void;
  jobWaited(queue: "flow-runs" | "task-runs", pool: string, seconds: number): void;
}

let sink: RunMetricsSink | undefined;

/** Jobs being processed in this process now, by kind of queue (`consumeJob` keeps them). */
export const jobsInProgress: Record<"flow-runs" | "task-runs", number> = { "flow-runs": 0, "task-runs": 0 };

export function setRunMetricsSink(next: RunMetricsSink | undefined): void {
  sink = next;
}

/** A flow run or task run reached a final state (Completed, Cached, Failed, Crashed, …). */
export function recordRunFinished(
  kind: MetricsRunKind,
  name: string,
  state: string,
  seconds: number | undefined,
): void {
  sink?.runFinished(kind, name, state, seconds);
}

/** A worker took a job after it waited this long in its queue. */
export function recordQueueWait(queue: "flow-runs" | "task-runs", pool: string, seconds: number): void {
  sink?.jobWaited(queue, pool, seconds);
}
