/**
 * The flow run page's Gantt timeline: where each task run and subflow sits on a shared time axis.
 * Pure layout (percentages of the axis), so the component only draws; a running item grows to `now`.
 */

export interface TimelineInput {
  id: string;
  name: string;
  kind: "task" | "subflow";
  stateType: string | null;
  stateName: string | null;
  start: string | null;
  end: string | null;
  /** Used for items not started yet (Pending, Scheduled): a marker where they are expected. */
  expected: string | null;
}

export interface TimelineBar extends TimelineInput {
  /** Offset from the axis start, in % of the axis. */
  left: number;
  /** Length in % of the axis (at least MIN_WIDTH so a 1 ms task is visible). */
  width: number;
  /** Still running: its end is `now`. */
  open: boolean;
  durationMs: number;
}

export interface TimelineLayout {
  startMs: number;
  endMs: number;
  bars: TimelineBar[];
  /** Axis labels: offset in % and milliseconds since the axis start. */
  ticks: { left: number; ms: number }[];
}

export const MIN_WIDTH = 0.5;

const NICE_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000,
];

const time = (iso: string | null) => (iso ? new Date(iso).getTime() : null);

/**
 * Lays `items` out between the run's start (or the first item's) and its end (or `now` while it
 * runs, or the last item's end), ordered by start time then name.
 */
export function layoutTimeline(
  items: TimelineInput[],
  run: { start: string | null; end: string | null },
  now: number,
  maxTicks = 6,
): TimelineLayout {
  const placed = items.map((item) => {
    const start = time(item.start) ?? time(item.expected);
    const ended = time(item.end);
    const open = item.start !== null && ended === null && item.stateType === "RUNNING";
    return { item, start, end: ended ?? (open ? now : start), open };
  });
  const starts = placed.flatMap((p) => (p.start === null ? [] : [p.start]));
  const ends = placed.flatMap((p) => (p.end === null ? [] : [p.end]));
  const runStart = time(run.start);
  const runEnd = time(run.end);
  const startMs = Math.min(runStart ?? Number.POSITIVE_INFINITY, ...starts, now);
  const lastEnd = Math.max(runEnd ?? Number.NEGATIVE_INFINITY, ...ends, startMs + 1);
  const endMs = run.end === null && run.start !== null ? Math.max(lastEnd, now) : lastEnd;
  const span = Math.max(endMs - startMs, 1);

  const bars = placed
    .map(({ item, start, end, open }): TimelineBar => {
      const from = start ?? startMs;
      const to = Math.max(end ?? from, from);
      const left = ((from - startMs) / span) * 100;
      return {
        ...item,
        left: Math.min(left, 100 - MIN_WIDTH),
        width: Math.max(((to - from) / span) * 100, MIN_WIDTH),
        open,
        durationMs: to - from,
      };
    })
    .sort((a, b) => a.left - b.left || a.name.localeCompare(b.name));

  const step = NICE_STEPS.find((candidate) => span / candidate <= maxTicks) ?? span / maxTicks;
  const ticks: { left: number; ms: number }[] = [];
  for (let ms = 0; ms <= span; ms += step) ticks.push({ left: (ms / span) * 100, ms });
  return { startMs, endMs, bars, ticks };
}

/** "+1.5 s", "+2 min": a tick's label. */
export function tickLabel(ms: number): string {
  if (ms === 0) return "0";
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 60_000) return `+${Number((ms / 1000).toFixed(1))} s`;
  if (ms < 3_600_000) return `+${Number((ms / 60_000).toFixed(1))} min`;
  return `+${Number((ms / 3_600_000).toFixed(1))} h`;
}
