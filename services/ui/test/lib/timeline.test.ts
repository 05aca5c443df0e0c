/** Where task runs and subflows sit on the flow run's Gantt timeline. */
import { describe, expect, it } from "vitest";
import { layoutTimeline, MIN_WIDTH, type TimelineInput, tickLabel } from "../../src/lib/timeline";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms).toISOString();

function item(id: string, start: number | null, end: number | null, stateType = "COMPLETED"): TimelineInput {
  return {
    id,
    name: id,
    kind: "task",
    stateType,
    stateName: stateType,
    start: start === null ? null : at(start),
    end: end === null ? null : at(end),
    expected: at(start ?? 0),
  };
}

describe("layoutTimeline", () => {
  it("places finished items as fractions of the run's span, in start order", () => {
    const layout = layoutTimeline(
      [item("load", 600, 1000), item("extract", 0, 500), item("transform", 500, 600)],
      { start: at(0), end: at(1000) },
      T0 + 60_000,
    );
    expect(layout.bars.map((bar) => [bar.id, bar.left, bar.width])).toEqual([
      ["extract", 0, 50],
      ["transform", 50, 10],
      ["load", 60, 40],
    ]);
    expect(layout.endMs - layout.startMs).toBe(1000);
  });

  it("grows a running item, and the axis, to now", () => {
    const now = T0 + 2000;
    const layout = layoutTimeline(
      [item("extract", 0, 500), item("nap", 500, null, "RUNNING")],
      { start: at(0), end: null },
      now,
    );
    const nap = layout.bars.find((bar) => bar.id === "nap");
    expect(nap).toMatchObject({ open: true, left: 25, width: 75, durationMs: 1500 });
    expect(layout.endMs).toBe(now);
  });

  it("gives instant and not-started items a visible minimum width", () => {
    const layout = layoutTimeline(
      [item("instant", 100, 100), { ...item("pending", null, null, "PENDING"), expected: at(900) }],
      { start: at(0), end: at(1000) },
      T0 + 5000,
    );
    expect(layout.bars.map((bar) => [bar.id, bar.width])).toEqual([
      ["instant", MIN_WIDTH],
      ["pending", MIN_WIDTH],
    ]);
    expect(layout.bars[1]?.left).toBe(90);
  });

  it("labels the axis with round steps", () => {
    const layout = layoutTimeline([item("a", 0, 50_000)], { start: at(0), end: at(50_000) }, T0 + 50_000);
    expect(layout.ticks.map((tick) => tickLabel(tick.ms))).toEqual(["0", "+10 s", "+20 s", "+30 s", "+40 s", "+50 s"]);
    expect(tickLabel(250)).toBe("+250 ms");
    expect(tickLabel(90_000)).toBe("+1.5 min");
  });
});
