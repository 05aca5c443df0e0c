import type { RunEvent } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { decodeEvents, encodeEvents } from "../src/event-stream.js";

const RUN = "0b9d4c7e-5a43-4e59-9a61-2f1c8f0e8a11";
const FLOW_RUN = "6f1e2d3c-4b5a-4c7d-8e9f-0a1b2c3d4e5f";
const events: RunEvent[] = [
  {
    kind: "task_run_created",
    id: "01a217e9-c7bd-712d-8093-e383dfaae11e",
    timestamp: "2026-11-26T13:00:00.000Z",
    taskRun: {
      id: RUN,
      name: "load_chunk-3",
      flowRunId: FLOW_RUN,
      taskKey: "load_chunk",
      dynamicKey: "3",
      cacheKey: null,
      cacheExpiration: null,
      tags: ["warehouse"],
      taskInputs: { 0: "s3://bucket/part-3.csv" },
      expectedStartTime: "2026-11-26T13:00:00.000Z",
    },
  },
  {
    kind: "state",
    id: "01a217e9-c7bd-712e-8093-e383dfaae11e",
    runKind: "task_run",
    runId: RUN,
    timestamp: "2026-11-26T13:00:00.001Z",
    type: "COMPLETED",
    name: "Completed",
    message: null,
    runCount: 1,
    data: { rows: 1000, "nested ünïcode": [1, null, "x"] },
  },
  {
    kind: "state",
    id: "01a217e9-c7bd-712f-8093-e383dfaae11e",
    runKind: "flow_run",
    runId: FLOW_RUN,
    timestamp: "2026-11-26T13:00:01.000Z",
    type: "SCHEDULED",
    name: "AwaitingRetry",
    message: "retry 1/3",
    runCount: 1,
    scheduledTime: "2026-11-26T13:00:11.000Z",
    force: true,
  },
  {
    kind: "log",
    id: "01a217e9-c7bd-7130-8093-e383dfaae11e",
    timestamp: "2026-11-26T13:00:00.001234Z",
    flowRunId: FLOW_RUN,
    taskRunId: RUN,
    name: "sluice.task_runs",
    level: "INFO",
    message: "Finished in state Completed() after 0.001s",
  },
  {
    kind: "cache_entry",
    id: "01a217e9-c7bd-7131-8093-e383dfaae11e",
    timestamp: "2026-11-26T13:00:00.002Z",
    cacheKey: "load_chunk:abc",
    taskRunId: RUN,
    expiresAt: null,
    result: { rows: 1000 },
  },
];

describe("the event stream's encoding", () => {
  it("gives back every kind of event as it was, in order", () => {
    expect(decodeEvents(encodeEvents(events))).toEqual(events);
    expect(decodeEvents(encodeEvents([events[3] as RunEvent]))).toEqual([events[3]]);
  });

  it("writes a task run's events as field arrays, a third smaller than objects", () => {
    const frequent = events.slice(0, 2).concat(events.slice(3, 4));
    expect(encodeEvents(frequent).length).toBeLessThan(JSON.stringify(frequent).length * 0.8);
  });

  it("still reads entries written as objects: one event, or an array of them", () => {
    expect(decodeEvents(JSON.stringify(events[1]))).toEqual([events[1]]);
    expect(decodeEvents(JSON.stringify(events))).toEqual(events);
  });

  it("refuses what is not an event (the recorder dead-letters the entry)", () => {
    expect(() => decodeEvents("[42]")).toThrow(/not an event/);
    expect(() => decodeEvents('[["no_such_kind", 1]]')).toThrow(/not an event/);
    expect(() => decodeEvents("{not json")).toThrow();
  });
});
