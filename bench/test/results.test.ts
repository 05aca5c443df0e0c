import { describe, expect, it } from "vitest";
import { mergeRounds, type Result, tracingOn, VARIANT } from "../results.js";
import { mergeRoundsWithTracingOverhead } from "../tracing.js";

const row = (system: Result["system"], metric: Result["metric"], value: number, notes: string): Result => ({
  workload: metric === "rss_mb" ? "memory" : "W2",
  system,
  variant: "no-op tasks, 2 workers",
  metric,
  value,
  notes,
});

describe("bench rounds", () => {
  it("keep each system's median rate and its largest peak RSS, with every round's value in the notes", () => {
    const merged = mergeRounds([
      [
        row("sluice", "tasks_per_s", 9_000, "round 1"),
        row("sluice", "rss_mb", 150, "r1"),
        row("bullmq", "tasks_per_s", 15_000, "b1"),
      ],
      [
        row("sluice", "tasks_per_s", 12_000, "round 2"),
        row("sluice", "rss_mb", 180, "r2"),
        row("bullmq", "tasks_per_s", 20_000, "b2"),
      ],
      [
        row("sluice", "tasks_per_s", 10_000, "round 3"),
        row("sluice", "rss_mb", 170, "r3"),
        row("bullmq", "tasks_per_s", 14_000, "b3"),
      ],
    ]);
    expect(merged.map((r) => [r.system, r.metric, r.value])).toEqual([
      ["sluice", "tasks_per_s", 10_000],
      ["sluice", "rss_mb", 180],
      ["bullmq", "tasks_per_s", 15_000],
    ]);
    expect(merged[0]?.notes).toBe("the median of 3 rounds (9,000, 12,000, 10,000); round 3");
    expect(merged[1]?.notes).toBe("the largest of 3 rounds (150, 180, 170); r2");
  });

  it("leave a row measured in one round only as it was", () => {
    const once = { ...row("sluice", "p50_ms", 2.3, "W3"), workload: "W3" as const };
    expect(mergeRounds([[once], []])).toEqual([once]);
  });

  it("take tracing's overhead in each round, then its median: a round's two runs share its speed", () => {
    const rate = (variant: string, value: number): Result => ({
      workload: "W2",
      system: "sluice",
      variant,
      metric: "tasks_per_s",
      value,
    });
    // Tracing costs 8%, 12% and 20% in the rounds; the machine ran the second round twice as fast.
    const rounds = [
      [5_000, 4_600],
      [10_000, 8_800],
      [6_000, 4_800],
    ].map(([off = 0, on = 0]) => [rate(VARIANT.throughput, off), rate(tracingOn(VARIANT.throughput), on)]);
    const overhead = mergeRoundsWithTracingOverhead(rounds).find((r) => r.metric === "overhead_pct");
    // Not 1 − 4,800/6,000 = 20%, the ratio of the medians.
    expect(overhead?.value).toBe(12);
    expect(overhead?.notes).toMatch(/^the median of 3 rounds \(8, 12, 20\); throughput lost to tracing/);
  });
});
