/** Small display rules: durations, log levels, the trace link. */
import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative, isFinalState, levelName, traceLink } from "../../src/lib/format";

describe("display formats", () => {
  it("writes durations in the unit that reads best", () => {
    expect(formatDuration(0.0504)).toBe("50 ms");
    expect(formatDuration(2.5)).toBe("2.5 s");
    expect(formatDuration(185)).toBe("3 min 5 s");
    expect(formatDuration(7500)).toBe("2 h 5 min");
    expect(formatDuration(null)).toBe("—");
  });

  it("says times relative to now", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(formatRelative("2026-01-01T11:59:55Z", now)).toBe("5 s ago");
    expect(formatRelative("2026-01-01T15:00:00Z", now)).toBe("in 3 h");
  });

  it("names log levels and final states", () => {
    expect([10, 20, 30, 40, 50, 25].map(levelName)).toEqual(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "INFO"]);
    expect(["COMPLETED", "FAILED", "CANCELLED", "CRASHED"].every(isFinalState)).toBe(true);
    expect(["RUNNING", "CANCELLING", "SCHEDULED", null].some(isFinalState)).toBe(false);
  });

  it("links a run's trace in the tracing UI", () => {
    expect(traceLink("http://localhost:16686/trace/{trace_id}", "4bf92f35")).toBe(
      "http://localhost:16686/trace/4bf92f35",
    );
    expect(traceLink("https://tempo.example/trace/", "4bf92f35")).toBe("https://tempo.example/trace/4bf92f35");
  });
});
