/** Emits the state transitions of one flow run or task run, with strictly increasing timestamps. */
import { randomUUID } from "node:crypto";
import {
  type EventSink,
  MonotonicClock,
  type RunKind,
  type StateName,
  type StateType,
  stateTypeOf,
} from "@sluice/core";

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

  constructor(
    private readonly events: EventSink,
    readonly runKind: RunKind,
    readonly runId: string,
  ) {}

  /** Emits the transition and returns its timestamp. Running/Retrying start a new attempt. */
  set(change: StateChange): string {
    if (change.name === "Running" || change.name === "Retrying") this.runCount += 1;
    const type = stateTypeOf(change.name);
    const timestamp = this.clock.nextIso();
    this.current = { type, name: change.name };
    this.events.emit({
      kind: "state",
      id: randomUUID(),
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
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (error) {
    return { $omitted: "not JSON-serializable", reason: String(error) };
  }
  if (json === undefined) return null;
  if (json.length > MAX_INLINE_RESULT_BYTES)
    return { $omitted: "too large to keep with the state", bytes: json.length };
  return JSON.parse(json) as unknown;
}
