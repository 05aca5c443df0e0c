/**
 * Memory: peak RSS of processes over a workload, from Linux's /proc/<pid>/status VmHWM (the
 * resident set's high-water mark). Writing 5 to /proc/<pid>/clear_refs resets the mark to the
 * current RSS, so each workload measures its own peak even though the processes live through
 * several workloads; what a process still holds from earlier ones counts (its RSS at the start is
 * reported beside the peak).
 */
import { readFileSync, writeFileSync } from "node:fs";

/** Resets the peak RSS of these processes; false when the kernel does not allow it (then the peak is since start). */
export function resetPeakRss(pids: readonly (number | undefined)[]): boolean {
  let ok = true;
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, "5");
    } catch {
      ok = false;
    }
  }
  return ok;
}

function statusMb(pid: number | undefined, field: "VmHWM" | "VmRSS"): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The peak RSS of a process in MB (NaN when it cannot be read: no such process, not Linux). */
export const peakRssMb = (pid: number | undefined) => statusMb(pid, "VmHWM");

/** The current RSS of a process in MB (NaN when it cannot be read). */
export const rssMb = (pid: number | undefined) => statusMb(pid, "VmRSS");

/** Measures the peaks of `pids` over `body`: resets them, runs it, reads them. */
export async function measurePeakRss<T>(
  pids: readonly (number | undefined)[],
  body: () => Promise<T>,
): Promise<{ result: T; peaksMb: number[]; startsMb: number[]; sinceStart: boolean }> {
  const reset = resetPeakRss(pids);
  const startsMb = pids.map(rssMb);
  const result = await body();
  return { result, peaksMb: pids.map(peakRssMb), startsMb, sinceStart: !reset };
}

/** "412 MB (RSS 180 MB at the start)" for each process. */
export function describePeaks(peaksMb: readonly number[], startsMb: readonly number[]): string {
  return peaksMb
    .map((peak, i) => `${peak.toFixed(0)} MB (${(startsMb[i] ?? Number.NaN).toFixed(0)} MB at the start)`)
    .join(" and ");
}
