import { randomUUID } from "node:crypto";
import type { RunEvent, StateName } from "@sluice/core";
import { stateTypeOf } from "@sluice/core";
import { recordEvents } from "@sluice/db";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

const at = (ms: number) => new Date(Date.parse("2031-01-01T00:00:00Z") + ms).toISOString();

/** A flow run with two task runs (one completed, one failed) and a log line per task, as a worker records them. */
async function recordRun(): Promise<{ flowRunId: string; taskRunIds: string[] }> {
  const flowRunId = randomUUID();
  const taskRunIds = [randomUUID(), randomUUID()];
  const state = (runKind: "flow_run" | "task_run", runId: string, name: StateName, ms: number): RunEvent => ({
    kind: "state",
    id: randomUUID(),
    runKind,
    runId,
    timestamp: at(ms),
    type: stateTypeOf(name),
    name,
    message: null,
    runCount: 1,
  });
  const events: RunEvent[] = [
    {
      kind: "flow_run_created",
      id: randomUUID(),
      timestamp: at(0),
      flowRun: {
        id: flowRunId,
        name: "quiet-heron",
        flowId: randomUUID(),
        flowName: "pipeline",
        deploymentId: null,
        parentTaskRunId: null,
        parameters: {},
        tags: [],
        expectedStartTime: at(0),
        workPoolName: null,
        workQueueName: null,
      },
    },
    state("flow_run", flowRunId, "Running", 1),
  ];
  taskRunIds.forEach((taskRunId, i) => {
    events.push(
      {
        kind: "task_run_created",
        id: randomUUID(),
        timestamp: at(10 + i),
        taskRun: {
          id: taskRunId,
          name: `extract_data-${i}`,
          flowRunId,
          taskKey: "extract_data",
          dynamicKey: String(i),
          cacheKey: null,
          cacheExpiration: null,
          tags: ["io"],
          taskInputs: { apiUrl: [] },
          expectedStartTime: at(10 + i),
        },
      },
      state("task_run", taskRunId, "Running", 20 + i),
      state("task_run", taskRunId, i === 0 ? "Completed" : "Failed", 30 + i),
      {
        kind: "log",
        id: randomUUID(),
        timestamp: at(40 + i),
        flowRunId,
        taskRunId,
        name: "sluice.task_runs",
        level: i === 0 ? "INFO" : "ERROR",
        message: `task ${i}`,
      },
    );
  });
  await recordEvents(api.database, events);
  return { flowRunId, taskRunIds };
}

describe("task runs", () => {
  it("reads, filters by flow run and state, and counts", async () => {
    const { flowRunId, taskRunIds } = await recordRun();
    const read = await api.call("GET", `/api/task_runs/${taskRunIds[0]}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: taskRunIds[0],
      flow_run_id: flowRunId,
      task_key: "extract_data",
      dynamic_key: "0",
      state_type: "COMPLETED",
      state_name: "Completed",
      run_count: 1,
      tags: ["io"],
      state: { type: "COMPLETED", state_details: { flow_run_id: flowRunId, task_run_id: taskRunIds[0] } },
    });
    expect(read.body.start_time).toBe(at(20));
    expect(read.body.end_time).toBe(at(30));

    const names = async (body: unknown) =>
      (await api.call("POST", "/api/task_runs/filter", body)).body.map((t: { name: string }) => t.name);
    expect(await names({ flow_runs: { id: { any_: [flowRunId] } }, sort: "EXPECTED_START_TIME_ASC" })).toEqual([
      "extract_data-0",
      "extract_data-1",
    ]);
    expect(await names({ task_runs: { state: { type: { any_: ["FAILED"] } } } })).toEqual(["extract_data-1"]);
    expect(await names({ flow_runs: { id: { any_: [randomUUID()] } } })).toEqual([]);
    expect(
      (await api.call("POST", "/api/task_runs/count", { task_runs: { flow_run_id: { any_: [flowRunId] } } })).body,
    ).toBe(2);
  });
});

describe("logs", () => {
  it("filters a run's logs by level, sorted either way", async () => {
    const { flowRunId, taskRunIds } = await recordRun();
    const messages = async (body: unknown) =>
      (await api.call("POST", "/api/logs/filter", body)).body.map((l: { message: string }) => l.message);
    expect(await messages({ logs: { flow_run_id: { any_: [flowRunId] } } })).toEqual(["task 0", "task 1"]);
    expect(await messages({ logs: { flow_run_id: { any_: [flowRunId] } }, sort: "TIMESTAMP_DESC" })).toEqual([
      "task 1",
      "task 0",
    ]);
    expect(await messages({ logs: { flow_run_id: { any_: [flowRunId] }, level: { ge_: 40 } } })).toEqual(["task 1"]);
    expect(await messages({ logs: { task_run_id: { any_: [taskRunIds[0]] } } })).toEqual(["task 0"]);
    const [first] = (await api.call("POST", "/api/logs/filter", { limit: 1 })).body;
    expect(first).toMatchObject({ flow_run_id: flowRunId, level: 20, name: "sluice.task_runs", timestamp: at(40) });
  });

  it("searches a run's log messages for text as typed, ignoring case", async () => {
    const flowRunId = randomUUID();
    const lines = ["Loaded 10% of users", "loaded 100 rows", "Extracting users_2024", "Extracting users-2024"];
    await api.call(
      "POST",
      "/api/logs/",
      lines.map((message, i) => ({
        name: "sluice.flow_runs",
        level: 20,
        message,
        timestamp: `2031-01-01T00:00:0${i}Z`,
        flow_run_id: flowRunId,
      })),
    );
    const search = async (query: string) =>
      (
        await api.call("POST", "/api/logs/filter", { logs: { flow_run_id: { any_: [flowRunId] }, text: { query } } })
      ).body.map((l: { message: string }) => l.message);
    expect(await search("LOADED")).toEqual(["Loaded 10% of users", "loaded 100 rows"]);
    expect(await search("10%")).toEqual(["Loaded 10% of users"]); // % is a character, not a wildcard
    expect(await search("users_")).toEqual(["Extracting users_2024"]); // so is _
    expect(await search("  ")).toEqual(lines); // a blank search is no search
  });

  it("creates logs in bulk, Prefect's way", async () => {
    const flowRunId = randomUUID();
    const created = await api.call("POST", "/api/logs/", [
      {
        name: "prefect.flow_runs",
        level: 20,
        message: "hello",
        timestamp: "2031-01-01T00:00:01Z",
        flow_run_id: flowRunId,
      },
      {
        name: "prefect.flow_runs",
        level: 40,
        message: "oops",
        timestamp: "2031-01-01T00:00:02Z",
        flow_run_id: flowRunId,
      },
    ]);
    expect(created.status).toBe(201);
    const listed = await api.call("POST", "/api/logs/filter", { logs: { flow_run_id: { any_: [flowRunId] } } });
    expect(listed.body.map((l: { message: string }) => l.message)).toEqual(["hello", "oops"]);
    const invalid = await api.call("POST", "/api/logs/", [
      { name: "x", level: "high", message: "m", timestamp: "nope" },
    ]);
    expect(invalid.status).toBe(422);
    expect(invalid.body.detail.map((d: { loc: unknown[] }) => d.loc)).toEqual([
      ["body", 0, "level"],
      ["body", 0, "timestamp"],
    ]);
  });
});
