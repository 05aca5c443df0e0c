import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  embeddedDataDir,
  ensureFlow,
  findFlowRun,
  getCacheEntry,
  getFlowRun,
  getFlowRunStates,
  getTaskRun,
  getTaskRunStates,
  insertFlowRun,
  listFlowRunSummaries,
  listLogs,
  listTaskRuns,
  openEmbeddedStore,
  recordEvents,
  resetEmbeddedStore,
  STORE_LOCK_FILE,
} from "@sluice/db";
import { createEmbeddedHome, type EmbeddedHome } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { at, cacheEntry, completedFlowRun, flowRunCreated, state, taskRunCreated } from "./events.js";

let home: EmbeddedHome;
beforeEach(() => {
  home = createEmbeddedHome();
});
afterEach(() => {
  home.close();
});

/** The pid of a process that has exited (a stale lock holder). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

describe("the embedded store (PGlite)", () => {
  it("records events with the same batch writer and reads them with the same helpers as Postgres", async () => {
    const store = await openEmbeddedStore(home.home);
    try {
      const { events, flowRunId, taskRunId } = completedFlowRun();
      await recordEvents(store.database, events);
      await recordEvents(store.database.db, events); // a replay, through the drizzle handle: no change
      await recordEvents(store.database, [cacheEntry("k1", { rows: 2 }, 7)]);

      expect(await getFlowRun(store.database.db, flowRunId)).toMatchObject({
        stateName: "Completed",
        runCount: 1,
        startTime: new Date(at(1)),
        endTime: new Date(at(6)),
        totalRunTime: 5,
        result: { rows: 2 },
        parameters: { apiUrl: "https://example.test/users", limit: 10 },
        tags: ["etl", "daily"],
      });
      expect((await getFlowRunStates(store.database.db, flowRunId)).map((s) => s.name)).toEqual([
        "Pending",
        "Running",
        "Completed",
      ]);
      expect(await getTaskRun(store.database.db, taskRunId)).toMatchObject({ stateName: "Completed" });
      expect(await getTaskRunStates(store.database.db, taskRunId)).toHaveLength(3);
      expect(await listTaskRuns(store.database.db, { flowRunId })).toHaveLength(1);
      expect((await listLogs(store.database.db, { flowRunId })).map((l) => [l.level, l.message])).toEqual([
        [20, "Extracting data from https://example.test/users"],
        [30, "Loaded 2 rows"],
      ]);
      expect(await getCacheEntry(store.database.db, "k1", new Date(at(8)))).toMatchObject({ result: { rows: 2 } });
      const [summary] = await listFlowRunSummaries(store.database.db);
      expect(summary).toMatchObject({ id: flowRunId, flowName: "ETL Pipeline" });
      expect(await findFlowRun(store.database.db, flowRunId.slice(0, 8))).toMatchObject({ id: flowRunId });
      expect(await findFlowRun(store.database.db, "not-an-id")).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("creates flow runs with the same insert statement as Postgres, first state included", async () => {
    const store = await openEmbeddedStore(home.home);
    try {
      const { flow } = await ensureFlow(store.database.db, { name: "ETL Pipeline" });
      const tags = ['say "hi"', "a,b"];
      const { flowRun, created } = await insertFlowRun(store.database.db, {
        flowId: flow.id,
        name: "embedded-run",
        parameters: { limit: 10 },
        tags,
      });
      expect(created).toBe(true);
      expect(await getFlowRun(store.database.db, flowRun.id)).toMatchObject({
        name: "embedded-run",
        flowId: flow.id,
        parameters: { limit: 10 },
        tags,
        stateType: "SCHEDULED",
      });
      expect((await getFlowRunStates(store.database.db, flowRun.id)).map((s) => s.name)).toEqual(["Scheduled"]);
      const again = await insertFlowRun(store.database.db, { id: flowRun.id, flowId: flow.id });
      expect(again).toMatchObject({ created: false, flowRun: { id: flowRun.id, name: "embedded-run" } });
    } finally {
      await store.close();
    }
  });

  it("is used by one process at a time: a second opener waits, told who holds it", async () => {
    const first = await openEmbeddedStore(home.home);
    const waitingFor: (number | undefined)[] = [];
    let secondOpened = false;
    const second = openEmbeddedStore(home.home, { onWaiting: (holder) => waitingFor.push(holder?.pid) }).then(
      (store) => {
        secondOpened = true;
        return store;
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(secondOpened).toBe(false);
    expect(waitingFor).toEqual([process.pid]);
    await first.close();
    const store = await second;
    await store.close();
  });

  it("the lock excludes: processes racing for it enter one at a time", async () => {
    const worker = new URL("./fixtures/lock-worker.ts", import.meta.url).pathname;
    const exits = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<number | null>((resolve) =>
            spawn(process.execPath, ["--import", "tsx", worker, home.home, "10"], { stdio: "inherit" }).on(
              "close",
              resolve,
            ),
          ),
      ),
    );
    expect(exits).toEqual([0, 0, 0, 0]);
    const journal = readFileSync(join(home.home, "journal"), "utf8").trim().split("\n");
    expect(journal).toHaveLength(80);
    for (let i = 0; i < journal.length; i += 2) {
      expect(journal[i]).toMatch(/^enter /);
      expect(journal[i + 1]).toBe(journal[i]?.replace("enter", "leave"));
    }
  });

  it("takes over the lock of a dead process and marks the runs it left in progress as Crashed", async () => {
    const created = flowRunCreated();
    const flowRunId = created.flowRun.id;
    const task = taskRunCreated(flowRunId, { timestamp: at(2) });
    const done = taskRunCreated(flowRunId, { timestamp: at(2), name: "done-0", taskKey: "done" });
    const waiting = taskRunCreated(flowRunId, { timestamp: at(2), name: "waiting-0", taskKey: "waiting" });
    const store = await openEmbeddedStore(home.home);
    await recordEvents(store.database, [
      created,
      state("flow_run", flowRunId, "Pending", 0),
      state("flow_run", flowRunId, "Running", 1, { runCount: 1 }),
      task,
      state("task_run", task.taskRun.id, "Pending", 2),
      state("task_run", task.taskRun.id, "Running", 3, { runCount: 1 }),
      done,
      state("task_run", done.taskRun.id, "Completed", 3),
      waiting,
      state("task_run", waiting.taskRun.id, "AwaitingRetry", 3),
    ]);
    await store.close();
    // As if the process using the store had been killed: its lock file is still there.
    const pid = deadPid();
    writeFileSync(
      join(home.home, STORE_LOCK_FILE),
      JSON.stringify({ pid, hostname: hostname(), startTicks: null, token: "t", acquiredAt: at(0) }),
    );

    let waited = false;
    const reopened = await openEmbeddedStore(home.home, { onWaiting: () => (waited = true) });
    try {
      expect(waited).toBe(false);
      expect(reopened.recovered.flowRunIds).toEqual([flowRunId]);
      expect(reopened.recovered.taskRunIds.sort()).toEqual([task.taskRun.id, waiting.taskRun.id].sort());
      const run = await getFlowRun(reopened.database.db, flowRunId);
      expect(run).toMatchObject({ stateType: "CRASHED", stateName: "Crashed" });
      expect(run?.stateMessage).toContain(`(pid ${pid})`);
      expect((await getFlowRunStates(reopened.database.db, flowRunId)).map((s) => s.name)).toEqual([
        "Pending",
        "Running",
        "Crashed",
      ]);
      expect((await getTaskRun(reopened.database.db, task.taskRun.id))?.stateName).toBe("Crashed");
      expect((await getTaskRun(reopened.database.db, done.taskRun.id))?.stateName).toBe("Completed");
      expect((await listLogs(reopened.database.db, { flowRunId })).map((l) => l.level)).toEqual([40]);
    } finally {
      await reopened.close();
    }
  });

  it("reset deletes the database; the next open starts empty", async () => {
    const store = await openEmbeddedStore(home.home);
    await recordEvents(store.database, completedFlowRun().events);
    await store.close();
    expect(await resetEmbeddedStore(home.home)).toBe(true);
    expect(await resetEmbeddedStore(home.home)).toBe(false);
    const fresh = await openEmbeddedStore(home.home);
    try {
      expect(await listFlowRunSummaries(fresh.database.db)).toEqual([]);
      expect(fresh.database.dataDir).toBe(embeddedDataDir(home.home));
    } finally {
      await fresh.close();
    }
  });
});
