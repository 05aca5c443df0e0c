/** Emits the state transitions of one flow run or task run, with strictly increasing timestamps. */
import {
  type EventSink,
  isTerminal,
  jsonCopy,
  MonotonicClock,
  measureJson,
  newRowId,
  type RunKind,
  type StateName,
  type StateType,
  stateTypeOf,
} from "@sluice/core";
import { recordRunFinished, recordStateOnSpan, runSpanOf, type Span } from "@sluice/telemetry";

export interface StateChange {
  name: StateName;
  message?: string | null;
  data?: unknown;
  scheduledTime?: string | null;
  /** Applies even after a terminal state (e.g. the retry of a Crashed run). */
  force?: boolean;
}

export class RunStates {
  private readonly clock = new MonotonicClock();
  runCount = 0;
  current: { type: StateType; name: StateName } | null = null;
  /** The run's span (tracing on): each state is an event on it. */
  private readonly span: Span | undefined;
  /** When the first attempt started (performance.now()), for the duration metrics. */
  private startedAt: number | undefined;

  /** `name`: the flow's or task's name, for the metrics. Created inside the run's span (see run-spans.ts). */
  constructor(
    private readonly events: EventSink,
    readonly runKind: RunKind,
    readonly runId: string,
    private readonly name = "",
  ) {
    this.span = runSpanOf(runKind);
    this.span?.setAttribute(runKind === "flow_run" ? "sluice.flow_run.id" : "sluice.task_run.id", runId);
  }

  /** Emits the transition and returns its timestamp. Running/Retrying start a new attempt. */
  set(change: StateChange): string {
    if (change.name === "Running" || change.name === "Retrying") {
      this.runCount += 1;
      this.startedAt ??= performance.now();
    }
    const type = stateTypeOf(change.name);
    if (this.span) recordStateOnSpan(this.span, change.name, type, change.message);
    if (isTerminal(type)) {
      const seconds = this.startedAt === undefined ? undefined : (performance.now() - this.startedAt) / 1000;
      recordRunFinished(this.runKind, this.name, change.name, seconds);
    }
    const timestamp = this.clock.nextIso();
    this.current = { type, name: change.name };
    this.events.emit({
      kind: "state",
      id: newRowId(),
      runKind: this.runKind,
      runId: this.runId,
      timestamp,
      type,
      name: change.name,
      message: change.message ?? null,
      runCount: this.runCount,
      scheduledTime: change.scheduledTime ?? null,
      data: change.data,
      ...(change.force ? { force: true } : {}),
    });
    return timestamp;
  }
}

/** Result data kept with a COMPLETED state: the value itself when small, a note when not. */
const MAX_INLINE_RESULT_BYTES = 64 * 1024;

export function resultStateData(result: unknown): unknown {
  if (result === undefined) return null;
  // Counted, not serialized: a 10,000-row batch is not turned into text only to learn it is too big.
  const measured = measureJson(result, MAX_INLINE_RESULT_BYTES);
  if (typeof measured === "number") return jsonCopy(result);
  if (measured === "no-json") return null;
  if (measured === "over-limit")
    return { $omitted: "too large to keep with the state", over_bytes: MAX_INLINE_RESULT_BYTES };
  return { $omitted: "not JSON-serializable", reason: String(measured.error) };
}
