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
  if (timestampMicros(incoming.timestamp) <= timestampMicros(current.timestamp)) return false;
  if (isTerminal(current.type) && !incoming.force) return false;
  return true;
}

/**
 * A clock that never repeats or goes backwards for one run: consecutive transitions of a run
 * always get strictly increasing timestamps, so "newest wins" is well defined. They are in
 * microseconds, as Postgres keeps them: a run's Pending, Running and Completed a few hundred
 * microseconds apart are stamped so, not pushed a millisecond apart each, which would add that
 * much to every run's recorded timeline.
 */
export class MonotonicClock {
  private last = 0;
  constructor(private readonly nowMicros: () => number = preciseNowMicros) {}
  nextIso(): string {
    const t = Math.max(this.nowMicros(), this.last + 1);
    this.last = t;
    return isoTimestampMicros(t);
  }
}

let preciseOrigin = performance.timeOrigin;

/**
 * The wall clock in microseconds: Date.now()'s millisecond and the monotonic clock's fraction of
 * it. Re-anchored whenever the two part by more than a millisecond (the wall clock was stepped).
 */
export function preciseNowMicros(): number {
  const wall = Date.now();
  let precise = preciseOrigin + performance.now();
  if (precise < wall - 1 || precise > wall + 2) {
    preciseOrigin = wall + 0.5 - performance.now();
    precise = wall + 0.5;
  }
  return Math.floor(precise * 1000);
}

const FRACTION = /\.(\d+)(?=Z|[+-]\d\d:?\d\d$)/i;

/** Microseconds since the epoch of an ISO timestamp (its digits past the millisecond included). */
export function timestampMicros(iso: string): number {
  const micros = Date.parse(iso) * 1000;
  const digits = FRACTION.exec(iso)?.[1];
  return digits && digits.length > 3 ? micros + Number(digits.slice(3, 6).padEnd(3, "0")) : micros;
}

/** `isoTimestamp` with microseconds: "2024-01-01T00:00:00.123456Z". */
function isoTimestampMicros(micros: number): string {
  const millis = Math.floor(micros / 1000);
  return `${isoTimestamp(millis).slice(0, -1)}${String(micros - millis * 1000).padStart(3, "0")}Z`;
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
