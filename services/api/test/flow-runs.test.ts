import { randomUUID } from "node:crypto";
import type { StateEvent } from "@sluice/core";
import { recordEvents } from "@sluice/db";
import { bullmqConnection, FlowRunCancellation, flowRunQueueName, redisKeys } from "@sluice/queue";
import { Worker } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, createDeployment, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

const HOUR = 3_600_000;
const base = Date.parse("2031-03-01T00:00:00Z");
const at = (hours: number) => new Date(base + hours * HOUR).toISOString();

interface Run {
  id: string;
  name: string;
  [key: string]: unknown;
}

async function createRun(deploymentId: string, body: Record<string, unknown> = {}): Promise<Run> {
  const response = await api.call("POST", `/api/deployments/${deploymentId}/create_flow_run`, body);
  if (response.status !== 201) throw new Error(`create_flow_run: ${response.status} ${response.text}`);
  return response.body;
}

const scheduledAt = (hours: number) => ({ state: { type: "SCHEDULED", state_details: { scheduled_time: at(hours) } } });

async function setState(id: string, state: Record<string, unknown>, force?: boolean) {
  return api.call("POST", `/api/flow_runs/${id}/set_state`, force === undefined ? { state } : { state, force });
}

describe("flow run filter", () => {
  let runs: Run[];
  let deploymentId: string;

  beforeEach(async () => {
    const deployment = await createDeployment(api, { tags: ["etl"] });
    deploymentId = deployment.id;
    const other = await createDeployment(api, { name: "weekly" }, "Other Flow");
    runs = [];
    // Names and times in different orders, so each sort is told apart.
    for (const [name, hours, tags] of [
      ["delta-run", 3, ["a"]],
      ["alpha-run", 1, ["a", "b"]],
      ["echo-run", 4, []],
      ["charlie-run", 0, ["b"]],
    ] as const) {
      runs.push(await createRun(deploymentId, { name, tags, ...scheduledAt(hours) }));
    }
    runs.push(await createRun(other.id, { name: "bravo-run", ...scheduledAt(2) }));
  });

  const names = async (body: unknown) =>
    (await api.call("POST", "/api/flow_runs/filter", body)).body.map((r: Run) => r.name);

  it("sorts, limits and pages", async () => {
    expect(await names({ sort: "EXPECTED_START_TIME_DESC" })).toEqual([
      "echo-run",
      "delta-run",
      "bravo-run",
      "alpha-run",
      "charlie-run",
    ]);
    expect(await names({ sort: "EXPECTED_START_TIME_ASC", limit: 2 })).toEqual(["charlie-run", "alpha-run"]);
    expect(await names({ sort: "EXPECTED_START_TIME_ASC", limit: 2, offset: 2 })).toEqual(["bravo-run", "delta-run"]);
    expect(await names({ sort: "NAME_ASC" })).toEqual([
      "alpha-run",
      "bravo-run",
      "charlie-run",
      "delta-run",
      "echo-run",
    ]);
    expect(await names({ sort: "NAME_DESC", offset: 4 })).toEqual(["alpha-run"]);
    expect(await names({ sort: "NEXT_SCHEDULED_START_TIME_ASC", limit: 1 })).toEqual(["charlie-run"]);
    const byId = [...runs].sort((a, b) => (a.id < b.id ? 1 : -1)).map((r) => r.name);
    expect(await names({})).toEqual(byId);
    expect(await names({ sort: "ID_DESC" })).toEqual(byId);

    // A started run sorts by its start time (now, before all these future expected times).
    const echo = runs.find((r) => r.name === "echo-run") as Run;
    expect((await setState(echo.id, { type: "RUNNING" })).status).toBe(201);
    expect((await names({ sort: "START_TIME_DESC" })).at(-1)).toBe("echo-run");
    expect((await names({ sort: "START_TIME_ASC" }))[0]).toBe("echo-run");
    expect((await setState(echo.id, { type: "COMPLETED" })).status).toBe(201);
    expect(await names({ sort: "END_TIME_DESC", flow_runs: { end_time: { is_null_: false } } })).toEqual(["echo-run"]);
  });

  it("refuses an unknown sort or a limit above 200", async () => {
    const badSort = await api.call("POST", "/api/flow_runs/filter", { sort: "SIDEWAYS" });
    expect(badSort.status).toBe(422);
    expect(badSort.body.detail[0].loc).toEqual(["body", "sort"]);
    expect((await api.call("POST", "/api/flow_runs/filter", { limit: 201 })).status).toBe(422);
    expect((await api.call("POST", "/api/flow_runs/filter", { limit: 200 })).status).toBe(200);
  });

  it("selects by run, flow and deployment criteria, and counts the same", async () => {
    const alpha = runs.find((r) => r.name === "alpha-run") as Run;
    expect((await setState(alpha.id, { type: "RUNNING" })).status).toBe(201);
    const cases: [unknown, string[]][] = [
      [{ flow_runs: { state: { type: { any_: ["RUNNING"] } } } }, ["alpha-run"]],
      [
        { flow_runs: { state: { name: { any_: ["Scheduled"] } } } },
        ["bravo-run", "charlie-run", "delta-run", "echo-run"],
      ],
      [{ flow_runs: { name: { any_: ["delta-run", "echo-run"] } } }, ["delta-run", "echo-run"]],
      [{ flow_runs: { name: { like_: "LTA" } } }, ["delta-run"]],
      [{ flow_runs: { tags: { all_: ["etl", "a"] } } }, ["alpha-run", "delta-run"]],
      [{ flow_runs: { tags: { all_: ["b"] } } }, ["alpha-run", "charlie-run"]],
      [{ flow_runs: { id: { any_: [alpha.id] } } }, ["alpha-run"]],
      [
        { flow_runs: { deployment_id: { any_: [deploymentId] } } },
        ["alpha-run", "charlie-run", "delta-run", "echo-run"],
      ],
      [
        { flow_runs: { parent_task_run_id: { is_null_: true } } },
        ["alpha-run", "bravo-run", "charlie-run", "delta-run", "echo-run"],
      ],
      [{ flow_runs: { expected_start_time: { before_: at(1), after_: at(0) } } }, ["alpha-run", "charlie-run"]],
      [{ flows: { name: { any_: ["Other Flow"] } } }, ["bravo-run"]],
      [{ deployments: { name: { any_: ["weekly"] } } }, ["bravo-run"]],
      [{ deployments: { id: { any_: [deploymentId] } }, flow_runs: { name: { like_: "echo" } } }, ["echo-run"]],
      [
        { flow_runs: { operator: "or_", name: { any_: ["echo-run"] }, tags: { all_: ["b"] } } },
        ["alpha-run", "charlie-run", "echo-run"],
      ],
    ];
    for (const [criteria, expected] of cases) {
      expect(await names({ ...(criteria as object), sort: "NAME_ASC" }), JSON.stringify(criteria)).toEqual(expected);
      const counted = await api.call("POST", "/api/flow_runs/count", criteria);
      expect(counted.body, JSON.stringify(criteria)).toBe(expected.length);
    }
  });

  it("accepts the null criteria Prefect clients send and refuses criteria it does not implement", async () => {
    const nulls = await api.call("POST", "/api/flow_runs/filter", {
      flows: null,
      flow_runs: { operator: "and_", id: null, name: null, flow_version: null, work_queue_name: null },
      deployments: null,
      sort: "ID_DESC",
      limit: 10,
      offset: 0,
    });
    expect(nulls.status).toBe(200);
    expect(nulls.body).toHaveLength(5);
    const unsupported = await api.call("POST", "/api/flow_runs/filter", {
      flow_runs: { flow_version: { any_: ["1"] } },
    });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body.detail[0].loc).toEqual(["body", "flow_runs", "flow_version"]);
  });
});

describe("set_state", () => {
  it("accepts transitions, refuses leaving a terminal state unless forced, and writes nothing on a refusal", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id);

    const running = await setState(run.id, { type: "RUNNING" });
    expect(running.status).toBe(201);
    expect(running.body).toMatchObject({
      status: "ACCEPT",
      details: { type: "accept_details" },
      state: { type: "RUNNING", name: "Running" },
    });
    const completed = await setState(run.id, { type: "COMPLETED", message: "done" });
    expect(completed.body).toMatchObject({ status: "ACCEPT", state: { type: "COMPLETED", message: "done" } });

    const read = (await api.call("GET", `/api/flow_runs/${run.id}`)).body;
    expect(read).toMatchObject({ state_type: "COMPLETED", state_name: "Completed", run_count: 1 });
    expect(read.start_time).not.toBeNull();
    expect(read.end_time).not.toBeNull();
    expect(read.total_run_time).toBeGreaterThanOrEqual(0);

    const history = async () =>
      (await api.query("SELECT name FROM flow_run_states WHERE flow_run_id = $1", [run.id])).length;
    expect(await history()).toBe(3);
    const rejected = await setState(run.id, { type: "RUNNING" });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      status: "REJECT",
      details: { type: "reject_details", reason: expect.stringContaining("terminal") },
      state: { type: "COMPLETED" },
    });
    expect(await history()).toBe(3);
    expect((await api.call("GET", `/api/flow_runs/${run.id}`)).body.state_type).toBe("COMPLETED");

    // Forced: a retry goes back to Scheduled and gets a job again.
    const queue = api.queues.queue("default-agent-pool");
    await queue.remove(run.id);
    const retried = await setState(run.id, { type: "SCHEDULED", name: "AwaitingRetry" }, true);
    expect(retried.body).toMatchObject({ status: "ACCEPT", state: { type: "SCHEDULED", name: "AwaitingRetry" } });
    expect(await history()).toBe(4);
    expect(await queue.getJobState(run.id)).toBe("waiting");
  });

  it("cancels a run no worker has taken at once, and withdraws its job", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id, scheduledAt(1));
    const queue = api.queues.queue("default-agent-pool");
    expect(await queue.getJobState(run.id)).toBe("delayed");
    const cancelled = await setState(run.id, { type: "CANCELLING" });
    expect(cancelled.body).toMatchObject({ status: "ACCEPT", state: { type: "CANCELLED", name: "Cancelled" } });
    expect(await queue.getJob(run.id)).toBeUndefined();
  });

  it("cancels at once a deployment's run that never ran and lost its job (Redis restarted)", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id, scheduledAt(1));
    await api.queues.queue("default-agent-pool").remove(run.id);
    const cancelled = await setState(run.id, { type: "CANCELLING" });
    expect(cancelled.body).toMatchObject({ status: "ACCEPT", state: { type: "CANCELLED", name: "Cancelled" } });
  });

  it("a cancel crossing the end of a run whose states are not recorded yet leaves it as it ended", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id);
    // A worker takes the job and finishes the run; its states are still on their way to Postgres.
    const connection = bullmqConnection(api.ctx.redis, { maxRetriesPerRequest: null });
    const worker = new Worker(flowRunQueueName("default-agent-pool"), async () => null, {
      connection,
      prefix: api.ctx.prefix,
    });
    const started = new Date();
    try {
      await new Promise<void>((resolve) => worker.on("completed", () => resolve()));
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const finished = new Date();
    const cancelling = await setState(run.id, { type: "CANCELLING" });
    expect(cancelling.body).toMatchObject({ status: "ACCEPT", state: { type: "CANCELLING" } });

    const state = (type: "RUNNING" | "COMPLETED", at: Date): StateEvent => ({
      kind: "state",
      id: randomUUID(),
      runKind: "flow_run",
      runId: run.id,
      timestamp: at.toISOString(),
      type,
      name: type === "RUNNING" ? "Running" : "Completed",
      message: null,
      runCount: 1,
    });
    await recordEvents(api.database, [state("RUNNING", started), state("COMPLETED", finished)]);
    expect((await api.call("GET", `/api/flow_runs/${run.id}`)).body).toMatchObject({ state_type: "COMPLETED" });
  });

  it("cancels a running run without a job (a client runs it) by asking it to stop, never by declaring it Cancelled", async () => {
    const deployment = await createDeployment(api);
    const adHoc = await api.call("POST", "/api/flow_runs/", { flow_id: deployment.flow_id });
    await setState(adHoc.body.id, { type: "RUNNING" });
    const cancelling = await setState(adHoc.body.id, { type: "CANCELLING" });
    expect(cancelling.body).toMatchObject({ status: "ACCEPT", state: { type: "CANCELLING" } });
    const cancellation = new FlowRunCancellation(api.ctx.redis, redisKeys(api.ctx.prefix));
    expect(await cancellation.isCancelled(adHoc.body.id)).toBe(true);
  });

  it("refuses a state name of another type, an unknown type and an unknown run", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id);
    const mismatch = await setState(run.id, { type: "RUNNING", name: "Completed" });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.detail[0].loc).toEqual(["body", "state", "name"]);
    const unknownType = await setState(run.id, { type: "EXPLODED" });
    expect(unknownType.status).toBe(422);
    expect(unknownType.body.detail[0]).toMatchObject({ loc: ["body", "state", "type"], type: "enum" });
    const unknownRun = await setState("00000000-0000-4000-8000-000000000000", { type: "RUNNING" });
    expect(unknownRun).toMatchObject({ status: 404, body: { detail: "Flow run not found" } });
    expect((await api.query("SELECT 1 FROM flow_run_states")).length).toBe(1);
  });
});

describe("flow runs", () => {
  it("creates ad hoc runs (Pending, not enqueued) and deployment runs (Scheduled, enqueued)", async () => {
    const deployment = await createDeployment(api);
    const adHoc = await api.call("POST", "/api/flow_runs/", {
      flow_id: deployment.flow_id,
      name: "local-run",
      parameters: { x: 1 },
      tags: ["local"],
    });
    expect(adHoc.status).toBe(201);
    expect(adHoc.body).toMatchObject({
      name: "local-run",
      state_type: "PENDING",
      deployment_id: null,
      parameters: { x: 1 },
    });
    const queue = api.queues.queue("default-agent-pool");
    expect(await queue.getJob(adHoc.body.id)).toBeUndefined();

    const scheduled = await api.call("POST", "/api/flow_runs/", {
      flow_id: deployment.flow_id,
      deployment_id: deployment.id,
    });
    expect(scheduled.status).toBe(201);
    expect(scheduled.body).toMatchObject({ state_type: "SCHEDULED", work_pool_name: "default-agent-pool" });
    expect(await queue.getJobState(scheduled.body.id)).toBe("waiting");

    const unknownFlow = await api.call("POST", "/api/flow_runs/", { flow_id: "00000000-0000-4000-8000-000000000000" });
    expect(unknownFlow).toMatchObject({ status: 404, body: { detail: "Flow not found" } });
  });

  it("deletes a run of a .map() bigger than Postgres's 65,535 parameters, with its task runs and their states", async () => {
    const deployment = await createDeployment(api);
    const [big, kept] = [await createRun(deployment.id), await createRun(deployment.id)];
    const addTaskRuns = async (flowRunId: string, count: number) => {
      await api.query(
        `INSERT INTO task_runs (id, name, flow_run_id, task_key, dynamic_key)
         SELECT gen_random_uuid(), 'noop-' || i, $1, 'noop', i::text FROM generate_series(0, $2::int - 1) i`,
        [flowRunId, count],
      );
      await api.query(
        `INSERT INTO task_run_states (id, task_run_id, type, name, timestamp)
         SELECT gen_random_uuid(), id, 'COMPLETED', 'Completed', now() FROM task_runs WHERE flow_run_id = $1`,
        [flowRunId],
      );
    };
    await addTaskRuns(big.id, 70_000);
    await addTaskRuns(kept.id, 3);

    expect((await api.call("DELETE", `/api/flow_runs/${big.id}`)).status).toBe(204);
    const counts = async (flowRunId: string) =>
      api.query(
        `SELECT (SELECT count(*)::int FROM task_runs WHERE flow_run_id = $1) AS runs,
                (SELECT count(*)::int FROM flow_run_states WHERE flow_run_id = $1) AS flow_states`,
        [flowRunId],
      );
    expect(await counts(big.id)).toEqual([{ runs: 0, flow_states: 0 }]);
    expect(await counts(kept.id)).toEqual([{ runs: 3, flow_states: 1 }]);
    // The deleted task runs' 70,000 states are gone; the kept run's 3 stay.
    expect(
      await api.query(
        `SELECT count(*)::int AS n FROM task_run_states s JOIN task_runs t ON t.id = s.task_run_id
         WHERE t.flow_run_id = $1`,
        [kept.id],
      ),
    ).toEqual([{ n: 3 }]);
    expect(await api.query("SELECT count(*)::int AS n FROM task_run_states")).toEqual([{ n: 3 }]);
  });

  it("reads and deletes a run (its job withdrawn); unknown ids are 404", async () => {
    const deployment = await createDeployment(api);
    const run = await createRun(deployment.id);
    const read = await api.call("GET", `/api/flow_runs/${run.id}`);
    expect(read.body).toMatchObject({ id: run.id, name: run.name, state: { type: "SCHEDULED" } });
    expect((await api.call("DELETE", `/api/flow_runs/${run.id}`)).status).toBe(204);
    expect(await api.call("GET", `/api/flow_runs/${run.id}`)).toMatchObject({
      status: 404,
      body: { detail: "Flow run not found" },
    });
    expect(await api.queues.queue("default-agent-pool").getJob(run.id)).toBeUndefined();
    expect((await api.call("DELETE", `/api/flow_runs/${run.id}`)).status).toBe(404);
    expect(await api.query("SELECT 1 FROM flow_run_states")).toEqual([]);
  });
});
