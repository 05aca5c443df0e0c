import { describe, expect, it } from "vitest";
import {
  isoTimestamp,
  MonotonicClock,
  preciseNowMicros,
  type StatePoint,
  shouldApplyState,
  timestampMicros,
} from "../src/index.js";

const at = (ms: number) => new Date(Date.UTC(2024, 0, 1) + ms).toISOString();
const point = (type: StatePoint["type"], ms: number, id = `${type}-${ms}`): StatePoint => ({
  type,
  timestamp: at(ms),
  id,
});

describe("shouldApplyState", () => {
  it("applies the first state", () => {
    expect(shouldApplyState(null, point("SCHEDULED", 0))).toBe(true);
    expect(shouldApplyState(null, point("COMPLETED", 0))).toBe(true);
  });

  it("applies a newer state", () => {
    expect(shouldApplyState(point("PENDING", 0), point("RUNNING", 1))).toBe(true);
  });

  it("ignores a duplicate delivery (same id)", () => {
    const running = point("RUNNING", 5, "s1");
    expect(shouldApplyState(running, running)).toBe(false);
    expect(shouldApplyState(running, { ...running, timestamp: at(6) })).toBe(false);
  });

  it("ignores a stale state (older or same timestamp)", () => {
    expect(shouldApplyState(point("RUNNING", 10), point("PENDING", 9))).toBe(false);
    expect(shouldApplyState(point("RUNNING", 10), point("PENDING", 10))).toBe(false);
  });

  it("keeps a terminal state final", () => {
    for (const type of ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"] as const) {
      expect(shouldApplyState(point(type, 10), point("RUNNING", 11))).toBe(false);
      expect(shouldApplyState(point(type, 10), point("SCHEDULED", 20))).toBe(false);
    }
  });

  it("lets a forced transition leave a terminal state (explicit retry), but not replay old ones", () => {
    expect(shouldApplyState(point("FAILED", 10), { ...point("SCHEDULED", 11), force: true })).toBe(true);
    expect(shouldApplyState(point("FAILED", 10), { ...point("SCHEDULED", 9), force: true })).toBe(false);
    expect(shouldApplyState(point("FAILED", 10, "x"), { ...point("SCHEDULED", 11, "x"), force: true })).toBe(false);
  });

  it("compares instants to the microsecond", () => {
    const current = { type: "PENDING" as const, timestamp: "2024-01-01T00:00:00.500100Z" };
    expect(shouldApplyState(current, { type: "RUNNING", timestamp: "2024-01-01T00:00:00.500200Z" })).toBe(true);
    expect(shouldApplyState(current, { type: "RUNNING", timestamp: "2024-01-01T00:00:00.500Z" })).toBe(false);
    expect(shouldApplyState(current, { type: "RUNNING", timestamp: "2024-01-01T01:00:00.5001+01:00" })).toBe(false);
    expect(shouldApplyState(current, { type: "RUNNING", timestamp: "2024-01-01T01:00:00.500101+01:00" })).toBe(true);
  });

  it("compares instants, not strings", () => {
    const current = { type: "RUNNING" as const, timestamp: "2024-01-01T00:00:00.500Z" };
    expect(shouldApplyState(current, { type: "COMPLETED", timestamp: "2024-01-01T01:00:00+01:00" })).toBe(false);
    expect(shouldApplyState(current, { type: "COMPLETED", timestamp: "2024-01-01T00:00:00.6Z" })).toBe(true);
  });
});

describe("MonotonicClock", () => {
  it("stamps in microseconds, strictly increasing when the clock stands still", () => {
    const frozen = Date.UTC(2024, 0, 1) * 1000 + 123_456;
    const clock = new MonotonicClock(() => frozen);
    const stamps = Array.from({ length: 5 }, () => clock.nextIso());
    expect(stamps.slice(0, 2)).toEqual(["2024-01-01T00:00:00.123456Z", "2024-01-01T00:00:00.123457Z"]);
    for (let i = 1; i < stamps.length; i++) {
      expect(timestampMicros(stamps[i] as string)).toBe(timestampMicros(stamps[i - 1] as string) + 1);
    }
  });

  it("never goes backwards when the clock does, and follows it forward again", () => {
    let now = 1_000_000_000;
    const clock = new MonotonicClock(() => now);
    const first = timestampMicros(clock.nextIso());
    now -= 5_000_000;
    const second = timestampMicros(clock.nextIso());
    expect(second).toBe(first + 1);
    now = 2_000_000_999;
    expect(clock.nextIso()).toBe("1970-01-01T00:33:20.000999Z");
  });

  it("reads the wall clock to the microsecond", () => {
    const before = Date.now();
    const micros = preciseNowMicros();
    const after = Date.now();
    expect(micros).toBeGreaterThanOrEqual((before - 1) * 1000);
    expect(micros).toBeLessThanOrEqual((after + 2) * 1000);
  });

  it("makes each successive state of a run apply", () => {
    const clock = new MonotonicClock(() => 0);
    let current: StatePoint | null = null;
    for (const type of ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED"] as const) {
      const next = { type, timestamp: clock.nextIso() };
      expect(shouldApplyState(current, next)).toBe(true);
      current = next;
    }
  });
});

describe("isoTimestamp", () => {
  it("formats like Date#toISOString, across seconds, minutes, days and back in time", () => {
    const base = Date.UTC(2026, 10, 26, 23, 59, 58, 990);
    const times = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 1999, 2000, 2010, 60_000, 86_400_000].map((d) => base + d);
    // Out of order and repeated, as two runs' clocks may ask.
    for (const ms of [...times, ...times.reverse(), 0, 999, 1_000, 253402300799999, base]) {
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4_102_444_800_000);
      expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
