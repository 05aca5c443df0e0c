/** Run log lines on the console, in Prefect's familiar shape: "12:00:01.234 | INFO    | Task run 'x-0' - message". */
import type { LogEvent } from "@sluice/core";

export function printRunLog(event: LogEvent, runLabel: string, write: (line: string) => void = defaultWrite): void {
  const time = new Date(event.timestamp).toISOString().slice(11, 23);
  write(`${time} | ${event.level.padEnd(8)}| ${runLabel} - ${event.message}\n`);
}

let pending = "";
/** Lines printed in the same tick go out in one write (a worker may finish thousands of task runs a second). */
function defaultWrite(line: string): void {
  if (pending === "") setImmediate(flushPending);
  pending += line;
}
function flushPending(): void {
  const lines = pending;
  pending = "";
  if (lines !== "") process.stdout.write(lines);
}
process.on("exit", flushPending);
