/** Run log lines on the console, in Prefect's familiar shape: "12:00:01.234 | INFO    | Task run 'x-0' - message". */
import type { LogEvent } from "@sluice/core";

export function printRunLog(event: LogEvent, runLabel: string, write: (line: string) => void = defaultWrite): void {
  const time = new Date(event.timestamp).toISOString().slice(11, 23);
  write(`${time} | ${event.level.padEnd(8)}| ${runLabel} - ${event.message}\n`);
}

function defaultWrite(line: string): void {
  process.stdout.write(line);
}
