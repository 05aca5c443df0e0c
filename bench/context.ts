/** What every workload gets: the sizes of this run, the progress display, and where results go. */
import type { Progress } from "./progress.js";
import type { Result, Sizes } from "./results.js";

export interface BenchContext {
  sizes: Sizes;
  progress: Progress;
  record(result: Result): void;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const now = () => performance.timeOrigin + performance.now();

export const formatCount = (n: number) => n.toLocaleString("en-US");

/** Calls `body(i)` for i = 0..count-1 with at most `limit` calls at once; the results in order. */
export async function mapLimit<T>(count: number, limit: number, body: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await body(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
  return results;
}
