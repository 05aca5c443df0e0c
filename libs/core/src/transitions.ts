/** Orchestration rule shared by the engine and the recorder: which state transitions are applied. */
import { isTerminal, type StateType } from "./states.js";

export interface StatePoint {
  type: StateType;
  /** ISO timestamp of when the run entered the state. */
  timestamp: string;
  /** State id, to recognise a duplicate delivery of the same transition. */
  id?: string;
}

/**
 * Whether `incoming` replaces `current` as the run's current state.
 * - the first state is always applied;
 * - a duplicate (same id) or a stale one (not newer than the current state) is ignored;
 * - a terminal state is final, unless the transition is forced (an explicit retry or reset).
 */
export function shouldApplyState(current: StatePoint | null, incoming: StatePoint & { force?: boolean }): boolean {
  if (current === null) return true;
  if (incoming.id !== undefined && incoming.id === current.id) return false;
  if (Date.parse(incoming.timestamp) <= Date.parse(current.timestamp)) return false;
  if (isTerminal(current.type) && !incoming.force) return false;
  return true;
}

/**
 * A clock that never repeats or goes backwards for one run: consecutive transitions of a run
 * always get strictly increasing timestamps, so "newest wins" is well defined even within 1 ms.
 */
export class MonotonicClock {
  private last = 0;
  constructor(private readonly now: () => number = Date.now) {}
  nextIso(): string {
    const t = Math.max(this.now(), this.last + 1);
    this.last = t;
    return isoTimestamp(t);
  }
}

/** The cached "YYYY-MM-DDTHH:MM:SS." of the second last formatted. */
let cachedSecond = Number.NaN;
let cachedPrefix = "";

/**
 * `new Date(ms).toISOString()`, without a Date and a full formatting for each time in the same
 * second as the one before: a worker stamps four or five states and log lines per task run, tens
 * of thousands a second in a `.map()`.
 */
export function isoTimestamp(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(second * 1000).toISOString();
    cachedPrefix = iso.slice(0, -4);
    cachedSecond = second;
  }
  const milli = ms - second * 1000;
  return `${cachedPrefix}${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
}
