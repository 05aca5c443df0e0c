import { describe, expect, it } from "vitest";
import { mergeRounds, type Result } from "../results.js";

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
});
