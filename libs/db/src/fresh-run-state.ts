/**
 * The current state of a run whose row and states arrive in the same batch, worked out here so the
 * row is inserted with it: one write per run instead of an insert, a row lock and an update (the
 * recorder's commonest case: a task run's creation, Pending, Running and Completed emitted together).
 *
 * It is what `applyStatesSql` derives for a new row from that history, for the histories where
 * the rule is simple: no forced state and no two states at the same instant. Then the timeline is
 * the states in time order up to the first terminal one, and the current state is its last.
 * Any other history returns null, and the run takes the SQL path.
 */
import { isTerminal, type StateEvent, timestampMicros } from "@sluice/core";
import { orDefault } from "./json-param.js";

/** The run row's state and timing columns, as the batch statement reads them. */
export interface FreshRunState {
  state_id: string | null;
  state_type: string | null;
  state_name: string | null;
  state_timestamp: string | null;
  state_message: string | null;
  run_count: number;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
  next_scheduled_start_time: string | null;
  result: unknown;
}

/** UTC with milliseconds (`toISOString()`) or microseconds (the engine's): ordering matches Postgres's. */
const CANONICAL_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(\d{3})?Z$/;

/** A run with no state yet. */
export const NO_STATE: FreshRunState = {
  state_id: null,
  state_type: null,
  state_name: null,
  state_timestamp: null,
  state_message: null,
  run_count: 0,
  start_time: null,
  end_time: null,
  total_run_time: 0,
  next_scheduled_start_time: null,
  result: null,
};

/** The row's columns from its whole history `states` (any order), or null when the SQL rule must decide. */
export function freshRunState(states: readonly StateEvent[]): FreshRunState | null {
  if (states.length === 0) return NO_STATE;
  const timed: { state: StateEvent; micros: number }[] = [];
  for (const state of states) {
    if (state.force || !CANONICAL_TIMESTAMP.test(state.timestamp)) return null;
    timed.push({ state, micros: timestampMicros(state.timestamp) });
  }
  timed.sort((a, b) => a.micros - b.micros);
  let startTime: string | null = null;
  let totalRunMicros = 0;
  let last = timed[0] as (typeof timed)[number];
  for (let i = 0; i < timed.length; i++) {
    const point = timed[i] as (typeof timed)[number];
    const next = timed[i + 1];
    if (next && next.micros === point.micros) return null;
    last = point;
    if (isTerminal(point.state.type)) break;
    if (point.state.type === "RUNNING") {
      startTime ??= point.state.timestamp;
      if (next) totalRunMicros += next.micros - point.micros;
    }
  }
  const { state } = last;
  return {
    state_id: state.id,
    state_type: state.type,
    state_name: state.name,
    state_timestamp: state.timestamp,
    state_message: state.message,
    run_count: orDefault(state.runCount, 0),
    start_time: startTime,
    end_time: isTerminal(state.type) ? state.timestamp : null,
    total_run_time: totalRunMicros / 1_000_000,
    next_scheduled_start_time: state.type === "SCHEDULED" ? (state.scheduledTime ?? state.timestamp) : null,
    result: state.type === "COMPLETED" ? (state.data ?? null) : null,
  };
}
