import { randomUUID } from "node:crypto";
import type { RunEvent, StateEvent, StateName } from "@sluice/core";
import {
  createDatabase,
  type Database,
  deleteFlowRun,
  getCacheEntry,
  getFlowRun,
  getFlowRunStates,
  getTaskRun,
  getTaskRunStates,
  listFlowRuns,
  listLogs,
  listTaskRuns,
  prepareEvents,
  recordEvents,
  takesCopy,
} from "@sluice/db";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { at, cacheEntry, completedFlowRun, flowRunCreated, log, state, T0, taskRunCreated } from "./events.js";

let ctx: TestContext;
let database: Database;

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl);
});

afterEach(async () => {
  await database?.close();
  await ctx?.close();
});

const TABLES = ["flows", "flow_runs", "flow_run_states", "task_runs", "task_run_states", "logs", "task_cache"];

/** Every row of every table the recorder writes, in a stable order. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of TABLES) {
    const { rows } = await database.pool.query(`SELECT * FROM ${table} ORDER BY 1`);
    out[table] = rows;
  }
  return out;
}

describe("recordEvents", () => {
  it("records a flow run with its task runs, states, timing, result and logs", async () => {
    const { events, flowRunId, taskRunId, flowName } = completedFlowRun();
    await recordEvents(database, events);

    const run = await getFlowRun(database.db, flowRunId);
    expect(run).toMatchObject({
      id: flowRunId,
      name: "brave-otter",
      stateType: "COMPLETED",
      stateName: "Completed",
      stateTimestamp: new Date(at(6)),
      runCount: 1,
      startTime: new Date(at(1)),
      endTime: new Date(at(6)),
      totalRunTime: 5,
      result: { rows: 2 },
      parameters: { apiUrl: "https://example.test/users", limit: 10 },
      tags: ["etl", "daily"],
      expectedStartTime: new Date(at(0)),
      workPoolName: "default-agent-pool",
    });
    const [flow] = await database.db.query.flows.findMany();
    expect(flow).toMatchObject({ id: run?.flowId, name: flowName });

    expect((await getFlowRunStates(database.db, flowRunId)).map((s) => s.name)).toEqual([
      "Pending",
      "Running",
      "Completed",
    ]);
    const [task] = await listTaskRuns(database.db, { flowRunId });
    expect(task).toMatchObject({
      id: taskRunId,
      taskKey: "extract_data",
      stateType: "COMPLETED",
      startTime: new Date(at(3)),
      endTime: new Date(at(5)),
      totalRunTime: 2,
      result: [{ id: 1 }, { id: 2 }],
    });
    expect((await getTaskRunStates(database.db, taskRunId)).map((s) => s.type)).toEqual([
      "PENDING",
      "RUNNING",
      "COMPLETED",
    ]);
    const logs = await listLogs(database.db, { flowRunId });
    expect(logs.map((l) => [l.level, l.message, l.taskRunId])).toEqual([
      [20, "Extracting data from https://example.test/users", taskRunId],
      [30, "Loaded 2 rows", null],
    ]);
    expect(await listFlowRuns(database.db, { limit: 10 })).toHaveLength(1);
  });

  it("produces the same rows when the same events are replayed", async () => {
    const { events } = completedFlowRun();
    const more = completedFlowRun();
    const all: RunEvent[] = [...events, ...more.events, cacheEntry("k1", { v: 1 }, 3)];
    await recordEvents(database, all);
    const first = await snapshot();

    await recordEvents(database, all);
    await recordEvents(database, [...all].reverse());
    for (let i = 0; i < all.length; i += 3) await recordEvents(database, all.slice(i, i + 3));
    expect(await snapshot()).toEqual(first);
  });

  it("records a batch holding events recorded before beside new ones: the new ones written, nothing doubled", async () => {
    const old = completedFlowRun();
    const fresh = completedFlowRun();
    await recordEvents(database, old.events);
    const oldRows = await snapshot();
    // A recorder that died after its commit, before acknowledging: its entries read again with new
    // ones, and one of the new entries delivered twice.
    await recordEvents(database, [...old.events, ...fresh.events, ...fresh.events.slice(3, 6)]);
    expect(await getTaskRun(database.db, fresh.taskRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(await getTaskRunStates(database.db, fresh.taskRunId)).toHaveLength(3);
    expect(await listLogs(database.db, { flowRunId: fresh.flowRunId })).toHaveLength(2);
    const after = await snapshot();
    for (const table of ["task_runs", "task_run_states", "logs"]) {
      const before = oldRows[table] ?? [];
      expect(after[table]).toHaveLength(before.length * 2);
      expect(after[table]).toEqual(expect.arrayContaining(before));
    }
  });

  it("keeps the newest state current when states arrive out of order", async () => {
    const created = flowRunCreated();
    const id = created.flowRun.id;
    const pending = state("flow_run", id, "Pending", 1);
    const running = state("flow_run", id, "Running", 2, { runCount: 1 });
    const completed = state("flow_run", id, "Completed", 3, { runCount: 1, data: 42 });

    await recordEvents(database, [created, completed]);
    await recordEvents(database, [running]);
    await recordEvents(database, [pending]);

    const run = await getFlowRun(database.db, id);
    expect(run).toMatchObject({
      stateId: completed.id,
      stateType: "COMPLETED",
      result: 42,
      endTime: new Date(at(3)),
      // Timing comes from the whole history, whatever the arrival order.
      startTime: new Date(at(2)),
      totalRunTime: 1,
    });
    expect((await getFlowRunStates(database.db, id)).map((s) => s.id)).toEqual([pending.id, running.id, completed.id]);

    // Within one batch too.
    const other = flowRunCreated();
    const oid = other.flowRun.id;
    await recordEvents(database, [
      state("flow_run", oid, "Running", 2, { runCount: 1 }),
      other,
      state("flow_run", oid, "Scheduled", 0),
      state("flow_run", oid, "Pending", 1),
    ]);
    expect(await getFlowRun(database.db, oid)).toMatchObject({ stateName: "Running", runCount: 1, endTime: null });
  });

  it("keeps every field of task runs, their states and logs, whatever characters they hold", async () => {
    const tags = ["etl", 'quo"ted', "back\\slash", "comma, and space", "{braces}", "NULL", ""];
    const fresh = taskRunCreated(null, { tags, taskInputs: { rows: [{ input_type: "parameter", name: "rows" }] } });
    const plain = taskRunCreated(null, { tags, cacheKey: "k-1", cacheExpiration: at(60), dynamicKey: "7" });
    const id = fresh.taskRun.id;
    await recordEvents(database, [
      fresh,
      state("task_run", id, "Pending", 0),
      state("task_run", id, "Running", 1, { runCount: 1 }),
      log(null, id, 'line with "quotes" and \\ backslash', 1),
      state("task_run", id, "Completed", 2, { runCount: 1, data: "null" }),
    ]);
    await recordEvents(database, [plain]);
    expect(await getTaskRun(database.db, id)).toMatchObject({
      tags,
      taskInputs: { rows: [{ input_type: "parameter", name: "rows" }] },
      stateName: "Completed",
      runCount: 1,
      result: "null", // the string, not a missing result
      startTime: new Date(at(1)),
      endTime: new Date(at(2)),
      totalRunTime: 1,
    });
    expect(await getTaskRun(database.db, plain.taskRun.id)).toMatchObject({
      tags,
      cacheKey: "k-1",
      cacheExpiration: new Date(at(60)),
      dynamicKey: "7",
      stateType: null,
      result: null,
    });
    const states = await getTaskRunStates(database.db, id);
    expect(states.map((s) => [s.name, s.runCount, s.data, s.message, s.force])).toEqual([
      ["Pending", 0, null, null, false],
      ["Running", 1, null, null, false],
      ["Completed", 1, "null", null, false],
    ]);
    const logs = await database.pool.query("SELECT message, level, flow_run_id FROM logs WHERE task_run_id = $1", [id]);
    expect(logs.rows).toEqual([{ message: 'line with "quotes" and \\ backslash', level: 20, flow_run_id: null }]);
  });

  it("keeps tabs, line breaks and backslashes in states and log lines, and drops what Postgres cannot hold (NUL, a lone surrogate)", async () => {
    const created = taskRunCreated(null);
    const id = created.taskRun.id;
    const text = "tab\there\nnext line\r\nC:\\dir\\n \\N \u0000nul \ud800lone";
    const kept = "tab\there\nnext line\r\nC:\\dir\\n \\N nul \ufffdlone";
    await recordEvents(database, [
      created,
      state("task_run", id, "Pending", 0, { message: text }),
      state("task_run", id, "Running", 1, { runCount: 1 }),
      log(null, id, text, 1),
      state("task_run", id, "Completed", 2, { runCount: 1, data: { text, rows: [1, null, "\\N"] } }),
    ]);
    const states = await getTaskRunStates(database.db, id);
    expect(states.map((s) => [s.name, s.message, s.data])).toEqual([
      ["Pending", kept, null],
      ["Running", null, null],
      ["Completed", null, { text: kept, rows: [1, null, "\\N"] }],
    ]);
    const logs = await database.pool.query("SELECT message FROM logs WHERE task_run_id = $1", [id]);
    expect(logs.rows).toEqual([{ message: kept }]);
    // A string result is kept as a JSON string.
    const other = taskRunCreated(null);
    await recordEvents(database, [
      other,
      state("task_run", other.taskRun.id, "Completed", 3, { runCount: 1, data: "done\tok" }),
    ]);
    expect(await getTaskRun(database.db, other.taskRun.id)).toMatchObject({ result: "done\tok" });
    expect((await getTaskRunStates(database.db, other.taskRun.id))[0]?.data).toBe("done\tok");
  });

  it("records a number JSON cannot hold (1e400 parses as Infinity) as a jsonb parameter has it, new or replayed", async () => {
    const created = taskRunCreated(null);
    const id = created.taskRun.id;
    const odd = state("task_run", id, "Running", 1, { runCount: Number.POSITIVE_INFINITY, data: Number.NaN });
    const events = [created, state("task_run", id, "Pending", 0), odd];
    await recordEvents(database, events);
    const rows = () =>
      database.pool.query("SELECT run_count, data IS NULL AS no_data FROM task_run_states WHERE id = $1", [odd.id]);
    expect((await rows()).rows).toEqual([{ run_count: 0, no_data: true }]);
    await recordEvents(database, events);
    expect((await rows()).rows).toEqual([{ run_count: 0, no_data: true }]);
  });

  it("never overwrites a terminal state with a later unforced one, but applies a forced retry", async () => {
    const created = taskRunCreated(null);
    const id = created.taskRun.id;
    await recordEvents(database, [
      created,
      state("task_run", id, "Running", 1, { runCount: 1 }),
      state("task_run", id, "Failed", 2, { runCount: 1, message: "boom", data: { error: "boom" } }),
    ]);
    await recordEvents(database, [state("task_run", id, "Running", 3, { runCount: 2 })]);
    expect(await getTaskRun(database.db, id)).toMatchObject({
      stateType: "FAILED",
      stateMessage: "boom",
      runCount: 1,
      endTime: new Date(at(2)),
      result: null,
    });

    // Same batch: a terminal state followed by a later unforced one.
    const other = taskRunCreated(null);
    const oid = other.taskRun.id;
    await recordEvents(database, [
      other,
      state("task_run", oid, "Running", 1, { runCount: 1 }),
      state("task_run", oid, "Completed", 2, { runCount: 1, data: "ok" }),
      state("task_run", oid, "Running", 3, { runCount: 2 }),
    ]);
    expect(await getTaskRun(database.db, oid)).toMatchObject({ stateType: "COMPLETED", result: "ok" });

    // An explicit retry (forced) reopens the finished run, and the states after it follow.
    const retry = state("task_run", id, "AwaitingRetry", 4, { force: true, runCount: 1, scheduledTime: at(10) });
    await recordEvents(database, [retry]);
    expect(await getTaskRun(database.db, id)).toMatchObject({
      stateId: retry.id,
      stateName: "AwaitingRetry",
      endTime: null,
      nextScheduledStartTime: new Date(at(10)),
    });
    await recordEvents(database, [
      state("task_run", id, "Completed", 12, { runCount: 2, data: "second time" }),
      state("task_run", id, "Retrying", 10, { runCount: 2 }),
    ]);
    expect(await getTaskRun(database.db, id)).toMatchObject({
      stateType: "COMPLETED",
      runCount: 2,
      result: "second time",
      startTime: new Date(at(1)),
      endTime: new Date(at(12)),
      nextScheduledStartTime: null,
      totalRunTime: 1 + 2,
    });
  });

  it("applies states that arrived before their run row once the row arrives", async () => {
    const created = flowRunCreated();
    const id = created.flowRun.id;
    const task = taskRunCreated(id);
    const tid = task.taskRun.id;
    await recordEvents(database, [
      state("flow_run", id, "Pending", 1),
      state("flow_run", id, "Running", 2, { runCount: 1 }),
      state("task_run", tid, "Running", 3, { runCount: 1 }),
    ]);
    expect(await getFlowRun(database.db, id)).toBeNull();
    expect(await getFlowRunStates(database.db, id)).toHaveLength(2);

    await recordEvents(database, [created, task]);
    expect(await getFlowRun(database.db, id)).toMatchObject({
      stateType: "RUNNING",
      runCount: 1,
      startTime: new Date(at(2)),
    });
    expect(await getTaskRun(database.db, tid)).toMatchObject({ stateType: "RUNNING", flowRunId: id });

    // A terminal state that came first stays final when the row arrives with older states.
    const late = flowRunCreated();
    const lid = late.flowRun.id;
    await recordEvents(database, [state("flow_run", lid, "Crashed", 5, { runCount: 1 })]);
    await recordEvents(database, [late, state("flow_run", lid, "Running", 1, { runCount: 1 })]);
    expect(await getFlowRun(database.db, lid)).toMatchObject({
      stateType: "CRASHED",
      endTime: new Date(at(5)),
      totalRunTime: 4,
    });
  });

  it("records a task run created with its states in one batch as it would record them applied later", async () => {
    // One batch holding the row and its whole history takes the JS path (fresh-run-state.ts);
    // states first and the row afterwards take the SQL rule. Both must leave the same row.
    const histories: [StateName, number, Partial<StateEvent>?][][] = [
      [
        ["Pending", 1],
        ["Running", 2, { runCount: 1 }],
        ["Completed", 2.5, { runCount: 1, data: { rows: 3 } }],
      ],
      [
        ["Pending", 1],
        ["Running", 2, { runCount: 1 }],
        ["AwaitingRetry", 3, { runCount: 1 }],
        ["Retrying", 4, { runCount: 2 }],
        ["Failed", 6, { runCount: 2, message: "boom" }],
      ],
      [
        ["Running", 2, { runCount: 1 }],
        ["Completed", 3, { runCount: 1 }],
        ["Running", 4, { runCount: 2 }],
        ["Crashed", 5],
      ],
      [["Scheduled", 1, { scheduledTime: at(60) }]],
      [
        ["Pending", 3],
        ["Running", 1, { runCount: 1 }],
      ],
      [["AwaitingConcurrencySlot", 1]],
      [],
    ];
    const columns = (row: Record<string, unknown> | null | undefined) => {
      const { id, stateId, created, updated, ...rest } = row ?? {};
      return rest;
    };
    for (const history of histories) {
      const rows = [];
      for (const rowFirst of [true, false]) {
        const created = taskRunCreated(null);
        const states = history.map(([name, seconds, overrides]) =>
          state("task_run", created.taskRun.id, name, seconds, overrides),
        );
        if (rowFirst) {
          await recordEvents(database, [created, ...states]);
        } else {
          await recordEvents(database, states);
          await recordEvents(database, [created]);
        }
        rows.push(await getTaskRun(database.db, created.taskRun.id));
      }
      expect(rows[0]?.stateName ?? null).toEqual(history.length === 0 ? null : expect.any(String));
      expect(columns(rows[0]), JSON.stringify(history)).toEqual(columns(rows[1]));
    }
    // A run whose history began before its row (a terminal state first) is not taken for a fresh one.
    const late = taskRunCreated(null);
    await recordEvents(database, [state("task_run", late.taskRun.id, "Crashed", 5, { runCount: 1 })]);
    await recordEvents(database, [late, state("task_run", late.taskRun.id, "Running", 1, { runCount: 1 })]);
    expect(await getTaskRun(database.db, late.taskRun.id)).toMatchObject({ stateType: "CRASHED", totalRunTime: 4 });
  });

  it("resolves flow runs to the existing flow of the same name", async () => {
    const a = flowRunCreated({ flowName: "shared" });
    const b = flowRunCreated({ flowName: "shared" });
    await recordEvents(database, [a]);
    await recordEvents(database, [b, flowRunCreated({ flowName: "shared" })]);
    const runs = await listFlowRuns(database.db);
    expect(runs).toHaveLength(3);
    expect(new Set(runs.map((r) => r.flowId))).toEqual(new Set([a.flowRun.flowId]));
  });

  it("writes logs (any text) and keeps the newest cache entry per key", async () => {
    const { events, flowRunId } = completedFlowRun();
    await recordEvents(database, events);
    const odd = log(flowRunId, null, "nul\u0000byte, lone \ud800 surrogate, émoji 🚀", 7, "CRITICAL");
    await recordEvents(database, [odd, log(flowRunId, null, "debug line", 8, "DEBUG")]);
    const logs = await listLogs(database.db, { flowRunId, minLevel: 50 });
    expect(logs.map((l) => [l.level, l.message])).toEqual([[50, "nulbyte, lone \ufffd surrogate, émoji 🚀"]]);
    expect(await listLogs(database.db, { flowRunId })).toHaveLength(4);

    const newer = cacheEntry("key", { rows: 2 }, 10);
    const older = cacheEntry("key", { rows: 1 }, 5);
    await recordEvents(database, [newer]);
    await recordEvents(database, [older]);
    expect(await getCacheEntry(database.db, "key")).toMatchObject({ taskRunId: newer.taskRunId, result: { rows: 2 } });
    const newest = cacheEntry("key", null, 11);
    await recordEvents(database, [newest, cacheEntry("key", "middle", 10.5)]);
    expect(await getCacheEntry(database.db, "key")).toMatchObject({ taskRunId: newest.taskRunId, result: null });

    await recordEvents(database, [cacheEntry("expiring", 1, 0, at(60))]);
    expect(await getCacheEntry(database.db, "expiring", new Date(T0 + 59_000))).toMatchObject({ result: 1 });
    expect(await getCacheEntry(database.db, "expiring", new Date(T0 + 60_000))).toBeNull();
    expect(await getCacheEntry(database.db, "missing")).toBeNull();
  });

  it("stays consistent when two writers record overlapping batches concurrently", async () => {
    const other = createDatabase(ctx.databaseUrl);
    try {
      const runs = Array.from({ length: 20 }, () => completedFlowRun());
      const all = runs.flatMap((r) => r.events);
      // Two writers, each with every event, in different orders and batch sizes.
      const writer = async (handle: Database, events: RunEvent[], size: number) => {
        for (let i = 0; i < events.length; i += size) await recordEvents(handle, events.slice(i, i + size));
      };
      await Promise.all([writer(database, all, 7), writer(other, [...all].reverse(), 11)]);
      for (const { flowRunId, taskRunId } of runs) {
        expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED", totalRunTime: 5 });
        expect(await getTaskRun(database.db, taskRunId)).toMatchObject({ stateType: "COMPLETED", totalRunTime: 2 });
      }
    } finally {
      await other.close();
    }
  });

  it("applies a run's states when its creation and its later states are recorded by two writers at once", async () => {
    // As when two recorders share the stream: the flow's worker emits a task run's creation and
    // Pending, the worker that ran it emits Running and Completed, and each recorder gets one entry.
    const other = createDatabase(ctx.databaseUrl);
    try {
      for (let round = 0; round < 5; round++) {
        const created: RunEvent[] = [];
        const later: RunEvent[] = [];
        const runs: { kind: "flow_run" | "task_run"; id: string }[] = [];
        for (let i = 0; i < 40; i++) {
          const flowRun = flowRunCreated();
          const taskRun = taskRunCreated(flowRun.flowRun.id);
          for (const [kind, id, creation] of [
            ["flow_run", flowRun.flowRun.id, flowRun],
            ["task_run", taskRun.taskRun.id, taskRun],
          ] as const) {
            runs.push({ kind, id });
            created.push(creation, state(kind, id, "Pending", 1));
            later.push(state(kind, id, "Running", 2), state(kind, id, "Completed", 3));
          }
        }
        await Promise.all([recordEvents(database, created), recordEvents(other, later)]);
        for (const { kind, id } of runs) {
          const row = kind === "flow_run" ? await getFlowRun(database.db, id) : await getTaskRun(database.db, id);
          expect(row, `${kind} ${id}, round ${round}`).toMatchObject({
            stateType: "COMPLETED",
            startTime: new Date(at(2)),
            endTime: new Date(at(3)),
            totalRunTime: 1,
          });
        }
      }
    } finally {
      await other.close();
    }
  });

  it("never brings back a deleted flow run: its creation, states and task runs still on their way are dropped", async () => {
    const { events, flowRunId } = completedFlowRun();
    const running = events.slice(0, 3); // created, Pending, Running
    await recordEvents(database, running);
    expect(await deleteFlowRun(database.db, flowRunId)).toMatchObject({ id: flowRunId, stateType: "RUNNING" });
    // The worker ran on for a moment (and replays the run's creation, as workers do).
    await recordEvents(database, events);
    expect(await getFlowRun(database.db, flowRunId)).toBeNull();
    expect(await getFlowRunStates(database.db, flowRunId)).toEqual([]);
    expect(await listTaskRuns(database.db, { flowRunId })).toEqual([]);
    expect(await listLogs(database.db, { flowRunId })).toHaveLength(2); // log lines stay, as on delete

    // Other runs in the same batches are recorded as ever.
    const other = completedFlowRun();
    await recordEvents(database, [...other.events, ...events]);
    expect(await getFlowRun(database.db, other.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(await getTaskRun(database.db, other.taskRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(await getFlowRun(database.db, flowRunId)).toBeNull();
  });

  it("forgets a deleted run's tombstone after a day", async () => {
    const first = completedFlowRun();
    const second = completedFlowRun();
    await recordEvents(database, [...first.events, ...second.events]);
    await deleteFlowRun(database.db, first.flowRunId);
    await database.pool.query("UPDATE deleted_flow_runs SET deleted = now() - interval '25 hours'");
    await deleteFlowRun(database.db, second.flowRunId);
    const { rows } = await database.pool.query<{ id: string }>("SELECT id FROM deleted_flow_runs");
    expect(rows.map((row) => row.id)).toEqual([second.flowRunId]);
  });

  it("takes a pool or a drizzle handle as well as a Database", async () => {
    const a = flowRunCreated();
    const b = flowRunCreated();
    await recordEvents(database.pool, [a]);
    await recordEvents(database.db, [b]);
    expect(await listFlowRuns(database.db)).toHaveLength(2);
    await expect(recordEvents(database, [])).resolves.toBeUndefined();
  });
});

describe("recordEvents against the reference rule (shouldApplyState)", () => {
  it.each(["flow_run", "task_run"] as const)(
    "matches folding shouldApplyState over the history of a %s, for random histories and batchings",
    async (kind) => {
      const { shouldApplyState } = await import("@sluice/core");
      const names: StateName[] = ["Scheduled", "Pending", "Running", "Completed", "Failed", "Crashed", "AwaitingRetry"];
      let seed = 12345;
      const random = () => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)] as T;

      for (let round = 0; round < 40; round++) {
        const created = kind === "flow_run" ? flowRunCreated() : taskRunCreated(null);
        const runId = created.kind === "flow_run_created" ? created.flowRun.id : created.taskRun.id;
        // Some histories with a forced state, most without (a task run created with such a
        // history in one batch is inserted with its state worked out in JS, not by the SQL rule).
        const forceRate = round % 2 === 0 ? 0 : 0.2;
        const states = Array.from({ length: 2 + Math.floor(random() * 6) }, (_, i) =>
          state(kind, runId, pick(names), i + 1, { force: random() < forceRate }),
        );
        const events: RunEvent[] = [created, ...states].sort(() => random() - 0.5);
        const batches: RunEvent[][] = [];
        for (let i = 0; i < events.length; ) {
          const size = 1 + Math.floor(random() * 3);
          batches.push(events.slice(i, i + size));
          i += size;
        }

        // Reference: after each batch, fold the rule over the known history newer than the current state.
        type Point = { id: string; type: (typeof states)[number]["type"]; timestamp: string };
        let current: Point | null = null;
        const history: typeof states = [];
        let rowExists = false;
        for (const batch of batches) {
          await recordEvents(database, batch);
          for (const event of batch) {
            if (event.kind === "state") history.push(event);
            if (event.kind !== "state") rowExists = true;
          }
          if (!rowExists) continue;
          const newer = history
            .filter((s) => current === null || s.timestamp > current.timestamp)
            .sort((x, y) => x.timestamp.localeCompare(y.timestamp));
          for (const s of newer) {
            if (shouldApplyState(current, s)) current = { id: s.id, type: s.type, timestamp: s.timestamp };
          }
          const row = kind === "flow_run" ? await getFlowRun(database.db, runId) : await getTaskRun(database.db, runId);
          expect(row?.stateId ?? null, `round ${round}`).toBe(current?.id ?? null);
        }
      }
    },
  );
});

describe("recordEvents of a batch prepared without COPY text (as for the embedded database)", () => {
  it("writes the same rows as the batch prepared with it", async () => {
    expect(takesCopy(database)).toBe(true);
    const other = await createTestContext();
    const otherDatabase = createDatabase(other.databaseUrl);
    try {
      const { events } = completedFlowRun();
      const more = completedFlowRun();
      const all: RunEvent[] = [...events, ...more.events, cacheEntry("k1", { v: 1 }, 3)];
      const withoutCopy = prepareEvents(all, { copy: false });
      expect(withoutCopy.copy).toBe(false);
      await recordEvents(database, prepareEvents(all));
      await recordEvents(otherDatabase, withoutCopy);
      // `created` and `updated` are (for most rows) when the row was written.
      const rowsOf = async (db: Database) => {
        const out: Record<string, unknown[]> = {};
        for (const table of TABLES) {
          const { rows } = await db.pool.query(`SELECT * FROM ${table} ORDER BY 1`);
          out[table] = rows.map(({ created: _created, updated: _updated, ...row }) => row);
        }
        return out;
      };
      const expected = await rowsOf(database);
      expect(expected.task_run_states?.length).toBeGreaterThan(0);
      expect(expected.logs?.length).toBeGreaterThan(0);
      expect(await rowsOf(otherDatabase)).toEqual(expected);
    } finally {
      await otherDatabase.close();
      await other.close();
    }
  });
});

describe("recordEvents with unknown event kinds", () => {
  it("skips them", async () => {
    const created = flowRunCreated();
    const unknown = { kind: "something_new", id: randomUUID(), timestamp: at(0) } as unknown as RunEvent;
    await recordEvents(database, [unknown, created]);
    expect(await getFlowRun(database.db, created.flowRun.id)).not.toBeNull();
  });
});
