/** A run's recorded interval: when it started and when it ended (null counts as the epoch). */
export interface RunInterval {
  start: Date | null;
  end: Date | null;
}

/** The most runs running at the same moment, from their recorded [start, end] intervals. */
export function maxOverlap(intervals: RunInterval[]): number {
  const edges = intervals.flatMap((interval) => [
    { at: interval.start?.getTime() ?? 0, delta: 1 },
    { at: interval.end?.getTime() ?? 0, delta: -1 },
  ]);
  // At equal times an end comes first: a run that ended as another started did not overlap it.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.delta;
    most = Math.max(most, running);
  }
  return most;
}
