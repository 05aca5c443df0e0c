import { randomUUID } from "node:crypto";
import type { StateEvent, StateName } from "@sluice/core";
import {
  createDatabase,
  createDeploymentFlowRun,
  type Database,
  DeploymentChangedError,
  ensureFlow,
  getDeployment,
  getFlowRun,
  getFlowRunStates,
  getVersionedDeploymentSummary,
  insertFlowRun,
  listScheduledDeployments,
  recordEvents,
  setFlowRunState,
  upsertDeployment,
} from "@sluice/db";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { state } from "./events.js";

let ctx: TestContext;
let database: Database;

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl, { max: 10 });
});

afterEach(async () => {
  await database.close();
  await ctx.close();
});

async function deployment(schedules = [{ cron: "0 6 * * *", timezone: "America/New_York" }]) {
  const { flow } = await ensureFlow(database.db, { name: "ETL Pipeline" });
  const { deployment } = await upsertDeployment(database.db, {
    flowId: flow.id,
    name: "daily-etl",
    parameters: { tableName: "users" },
    tags: ["etl"],
    schedules,
  });
  return deployment;
}

/** A state of a flow run as a worker emits it, at a real time (these runs are created now). */
const workerState = (runId: string, name: StateName, at: Date, runCount = 1): StateEvent =>
  state("flow_run", runId, name, 0, { timestamp: at.toISOString(), runCount });

/** A deployment's run recorded Running on its worker, which finishes it two seconds later (`finished`). */
async function runningOnWorker() {
  const { flowRun } = await createDeploymentFlowRun(database.db, await deployment(), {});
  const started = new Date(Date.now() + 1000);
  await recordEvents(database, [workerState(flowRun.id, "Running", started)]);
  return { flowRun, finished: new Date(started.getTime() + 2000) };
}

const count = async (table: string) =>
  Number((await database.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

describe("createDeploymentFlowRun", () => {
  it("creates one auto-scheduled run per deployment and time, however many schedulers race", async () => {
    const d = await deployment();
    const at = new Date("2031-06-01T10:00:00Z");
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        createDeploymentFlowRun(database.db, d, { scheduledTime: at, autoScheduled: true }),
      ),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.flowRun.id)).size).toBe(1);
    const [first] = results;
    expect(first?.flowRun).toMatchObject({
      deploymentId: d.id,
      autoScheduled: true,
      stateType: "SCHEDULED",
      stateName: "Scheduled",
      expectedStartTime: at,
      nextScheduledStartTime: at,
      parameters: { tableName: "users" },
      tags: ["etl"],
      workPoolName: "default-agent-pool",
      workQueueName: "default",
    });
    expect(await count("flow_run_states")).toBe(1);

    // A manual run at the same time is another run; so is the next scheduled time.
    expect((await createDeploymentFlowRun(database.db, d, { scheduledTime: at })).created).toBe(true);
    const next = new Date("2031-06-02T10:00:00Z");
    expect((await createDeploymentFlowRun(database.db, d, { scheduledTime: next, autoScheduled: true })).created).toBe(
      true,
    );
    expect(await count("flow_runs")).toBe(3);
  });

  it("dedupes by idempotency key within a deployment", async () => {
    const d = await deployment();
    const first = await createDeploymentFlowRun(database.db, d, { idempotencyKey: "k", parameters: { a: 1 } });
    const again = await createDeploymentFlowRun(database.db, d, { idempotencyKey: "k", parameters: { a: 2 } });
    expect(again).toMatchObject({
      created: false,
      flowRun: { id: first.flowRun.id, parameters: { a: 1, tableName: "users" } },
    });
  });
});

describe("insertFlowRun", () => {
  it("stores every field as given: tags with quotes and commas, NULs dropped from parameters, the first state", async () => {
    const d = await deployment();
    const tags = ['say "hi"', "a,b", "{braces}", "back\\slash", "NULL", ""];
    const { flowRun, created } = await insertFlowRun(database.db, {
      flowId: d.flowId,
      deploymentId: d.id,
      name: "odd-fields",
      parameters: { text: "nul\u0000here", nested: { list: [1, "2", null] }, answer: "42" },
      tags,
      empiricalPolicy: { retries: 2 },
      idempotencyKey: "key",
      workPoolName: "etl-pool",
      state: { type: "RUNNING", message: "started elsewhere" },
    });
    expect(created).toBe(true);
    const read = await getFlowRun(database.db, flowRun.id);
    for (const run of [flowRun, read]) {
      expect(run).toMatchObject({
        name: "odd-fields",
        tags,
        parameters: { text: "nulhere", nested: { list: [1, "2", null] }, answer: "42" },
        empiricalPolicy: { retries: 2 },
        idempotencyKey: "key",
        workPoolName: "etl-pool",
        stateType: "RUNNING",
        stateName: "Running",
        stateMessage: "started elsewhere",
        runCount: 1,
        nextScheduledStartTime: null,
        endTime: null,
      });
      expect(run?.startTime).toEqual(run?.stateTimestamp);
    }
    expect((await getFlowRunStates(database.db, flowRun.id)).map((s) => [s.name, s.message])).toEqual([
      ["Running", "started elsewhere"],
    ]);
  });

  it("creates a deployment's run only while the deployment's row is at the version it was read at", async () => {
    const d = await deployment();
    const summary = await getVersionedDeploymentSummary(database.db, d.id);
    if (!summary) throw new Error("no deployment summary");
    const created = await createDeploymentFlowRun(database.db, summary, {}, new Date(), {
      unchangedSince: summary.rowVersion,
    });
    expect(created.flowRun).toMatchObject({ flowId: d.flowId, deploymentId: d.id, parameters: { tableName: "users" } });
    await database.pool.query(`UPDATE deployments SET parameters = '{"tableName": "accounts"}' WHERE id = $1`, [d.id]);
    await expect(
      createDeploymentFlowRun(database.db, summary, {}, new Date(), { unchangedSince: summary.rowVersion }),
    ).rejects.toBeInstanceOf(DeploymentChangedError);
    expect(await count("flow_runs")).toBe(1);
    expect(await count("flow_run_states")).toBe(1);
  });
});

describe("setFlowRunState", () => {
  it("follows the engine's rule and composes with states the recorder writes", async () => {
    const d = await deployment();
    const { flowRun } = await createDeploymentFlowRun(database.db, d, {});
    const running = new Date(Date.now() + 1000);
    await recordEvents(database, [workerState(flowRun.id, "Running", running)]);
    expect((await getFlowRun(database.db, flowRun.id))?.stateType).toBe("RUNNING");

    // The API's state is newer than the worker's, whatever the clocks say.
    const cancelled = await setFlowRunState(database.db, flowRun.id, { type: "CANCELLED" }, { now: new Date(0) });
    expect(cancelled?.status).toBe("ACCEPT");
    expect(cancelled?.flowRun.stateTimestamp?.getTime()).toBe(running.getTime() + 1);
    expect(cancelled?.flowRun.endTime).toEqual(cancelled?.flowRun.stateTimestamp);

    const refused = await setFlowRunState(database.db, flowRun.id, { type: "RUNNING" });
    expect(refused).toMatchObject({ status: "REJECT", flowRun: { stateType: "CANCELLED" } });
    const forced = await setFlowRunState(
      database.db,
      flowRun.id,
      { type: "SCHEDULED", name: "AwaitingRetry" },
      { force: true },
    );
    expect(forced?.flowRun).toMatchObject({ stateType: "SCHEDULED", stateName: "AwaitingRetry", endTime: null });
    expect((await getFlowRunStates(database.db, flowRun.id)).map((s) => s.name)).toEqual([
      "Scheduled",
      "Running",
      "Cancelled",
      "AwaitingRetry",
    ]);
    expect(await setFlowRunState(database.db, randomUUID(), { type: "RUNNING" })).toBeNull();
  });

  it("applies an `onlyFrom` state only over that state: Late leaves a run a worker took meanwhile Running", async () => {
    const d = await deployment();
    const { flowRun } = await createDeploymentFlowRun(database.db, d, {});
    // The scheduler listed it as Scheduled; a worker's Running is recorded before the mark.
    await recordEvents(database, [workerState(flowRun.id, "Running", new Date())]);
    const late = await setFlowRunState(
      database.db,
      flowRun.id,
      { type: "SCHEDULED", name: "Late" },
      { onlyFrom: "Scheduled" },
    );
    expect(late).toMatchObject({ status: "REJECT", flowRun: { stateName: "Running" } });
    expect(late?.reason).toContain("Running");
    expect((await getFlowRun(database.db, flowRun.id))?.stateName).toBe("Running");
    expect((await getFlowRunStates(database.db, flowRun.id)).map((s) => s.name)).toEqual(["Scheduled", "Running"]);
  });

  it("a cancel that crosses the run's end: the worker's Completed, recorded after the Cancelling, ends the run", async () => {
    const { flowRun, finished } = await runningOnWorker();
    // The flow finished on its worker, but its Completed is still on the stream when the cancel
    // comes: the API sees it Running. No worker holds it any more, so no Cancelled would follow.
    const cancelling = await setFlowRunState(
      database.db,
      flowRun.id,
      { type: "CANCELLING" },
      { now: new Date(finished.getTime() + 500) },
    );
    expect(cancelling?.status).toBe("ACCEPT");
    await recordEvents(database, [workerState(flowRun.id, "Completed", finished)]);
    expect(await getFlowRun(database.db, flowRun.id)).toMatchObject({
      stateName: "Completed",
      endTime: finished,
      totalRunTime: 2,
    });
    // Replayed, the history changes nothing.
    await recordEvents(database, [workerState(flowRun.id, "Completed", finished)]);
    expect((await getFlowRun(database.db, flowRun.id))?.stateName).toBe("Completed");
  });

  it("a cancel in the same millisecond as the run's end leaves the run as it ended", async () => {
    const { flowRun, finished } = await runningOnWorker();
    const cancelling = await setFlowRunState(database.db, flowRun.id, { type: "CANCELLING" }, { now: finished });
    expect(cancelling?.status).toBe("ACCEPT");
    // An id sorting after any other, so a tie broken by id alone would drop the Completed.
    const completed = { ...workerState(flowRun.id, "Completed", finished), id: "ffffffff-ffff-4fff-bfff-ffffffffffff" };
    await recordEvents(database, [completed]);
    expect((await getFlowRun(database.db, flowRun.id))?.stateName).toBe("Completed");
  });

  it("a Cancelling run ends only with a terminal state of its current attempt, never an older one replayed", async () => {
    const d = await deployment();
    const { flowRun } = await createDeploymentFlowRun(database.db, d, {});
    const t = (seconds: number) => new Date(Date.now() + seconds * 1000);
    const failed = workerState(flowRun.id, "Failed", t(2));
    await recordEvents(database, [workerState(flowRun.id, "Running", t(1)), failed]);
    // Retried (a forced state), running again, then cancelled.
    await setFlowRunState(
      database.db,
      flowRun.id,
      { type: "SCHEDULED", name: "AwaitingRetry" },
      { force: true, now: t(3) },
    );
    await recordEvents(database, [workerState(flowRun.id, "Running", t(4), 2)]);
    await setFlowRunState(database.db, flowRun.id, { type: "CANCELLING" }, { now: t(5) });
    await recordEvents(database, [failed]); // the first attempt's end, delivered again
    expect((await getFlowRun(database.db, flowRun.id))?.stateName).toBe("Cancelling");
    await recordEvents(database, [workerState(flowRun.id, "Cancelled", t(6), 2)]);
    expect((await getFlowRun(database.db, flowRun.id))?.stateName).toBe("Cancelled");
  });
});

describe("upsertDeployment", () => {
  it("replaces schedules and withdraws the auto-scheduled runs that have not started", async () => {
    const d = await deployment();
    const auto = await createDeploymentFlowRun(database.db, d, { scheduledTime: new Date(), autoScheduled: true });
    const manual = await createDeploymentFlowRun(database.db, d, {});
    expect((await listScheduledDeployments(database.db)).map((x) => x.id)).toEqual([d.id]);

    const {
      deployment: updated,
      created,
      withdrawn,
    } = await upsertDeployment(database.db, {
      flowId: d.flowId,
      name: "daily-etl",
      schedules: [{ intervalSeconds: 900 }],
    });
    expect(created).toBe(false);
    expect(withdrawn).toEqual([{ id: auto.flowRun.id, workPoolName: "default-agent-pool" }]);
    expect(await getFlowRun(database.db, manual.flowRun.id)).not.toBeNull();
    expect(updated.schedules).toEqual([
      expect.objectContaining({ cron: null, intervalSeconds: 900, timezone: "UTC", active: true }),
    ]);
    expect(updated.parameters).toEqual({ tableName: "users" });
    expect((await getDeployment(database.db, d.id))?.schedules).toHaveLength(1);
  });
});
