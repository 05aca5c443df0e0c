import type { LogEvent } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { printRunLog } from "../src/console-output.js";

function printed(timestamp: string): string {
  const event: LogEvent = {
    kind: "log",
    id: "0190d5a2-0000-7000-8000-000000000000",
    timestamp,
    flowRunId: null,
    taskRunId: null,
    name: "sluice.task_runs",
    level: "INFO",
    message: "Finished in state Completed()",
  };
  const lines: string[] = [];
  printRunLog(event, "Task run 'noop-0'", (line) => lines.push(line));
  return lines.join("");
}

describe("run log lines on the console", () => {
  it("show the UTC clock time to the millisecond, the level and the run, as Prefect prints them", () => {
    expect(printed("2026-11-27T21:09:59.618098Z")).toBe(
      "21:09:59.618 | INFO    | Task run 'noop-0' - Finished in state Completed()\n",
    );
  });

  it("turn a timestamp with an offset or without microseconds into the same UTC clock time", () => {
    expect(printed("2026-11-27T23:09:59.618+02:00")).toMatch(/^21:09:59\.618 \| INFO/);
    expect(printed("2026-11-27T21:09:59.618Z")).toMatch(/^21:09:59\.618 \| INFO/);
  });
});
