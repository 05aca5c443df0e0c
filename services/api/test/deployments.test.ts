import { randomUUID } from "node:crypto";
import { recordEvents } from "@sluice/db";
import { FlowRunCancellation, flowRunQueueName, redisKeys } from "@sluice/queue";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, createDeployment, ETL_PARAMETER_SCHEMA, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

const count = async (table: string) =>
  Number((await api.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);

describe("flows", () => {
  it("creates a flow once by name and reads it by id and name", async () => {
    const first = await api.call("POST", "/api/flows/", { name: "ETL Pipeline", tags: ["etl"] });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ name: "ETL Pipeline", tags: ["etl"] });
    expect(first.body.created).toMatch(/Z$/);
    const again = await api.call("POST", "/api/flows/", { name: "ETL Pipeline" });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    expect((await api.call("GET", `/api/flows/${first.body.id}`)).body.name).toBe("ETL Pipeline");
    expect((await api.call("GET", "/api/flows/name/ETL%20Pipeline")).body.id).toBe(first.body.id);
    const filtered = await api.call("POST", "/api/flows/filter", { flows: { name: { any_: ["ETL Pipeline"] } } });
    expect(filtered.body.map((f: { id: string }) => f.id)).toEqual([first.body.id]);
    expect((await api.call("POST", "/api/flows/count", {})).body).toBe(1);

    expect((await api.call("DELETE", `/api/flows/${first.body.id}`)).status).toBe(204);
    expect(await api.call("GET", `/api/flows/${first.body.id}`)).toMatchObject({
      status: 404,
      body: { detail: "Flow not found" },
    });
  });
});

describe("deleting a flow", () => {
  it("tells workers to stop its running runs, and its runs' late events never bring them back", async () => {
    const flow = await api.call("POST", "/api/flows/", { name: "ETL Pipeline" });
    const run = async () => (await api.call("POST", "/api/flow_runs/", { flow_id: flow.body.id })).body.id as string;
    const [running, finished] = [await run(), await run()];
    await api.call("POST", `/api/flow_runs/${running}/set_state`, { state: { type: "RUNNING" } });
    await api.call("POST", `/api/flow_runs/${finished}/set_state`, { state: { type: "COMPLETED" } });
    expect((await api.call("DELETE", `/api/flows/${flow.body.id}`)).status).toBe(204);

    const cancellation = new FlowRunCancellation(api.ctx.redis, redisKeys(api.ctx.prefix));
    expect(await cancellation.isCancelled(running)).toBe(true);
    expect(await cancellation.isCancelled(finished)).toBe(false);
    // The worker's last states, recorded after the delete.
    await recordEvents(api.database, [
      {
        kind: "state",
        id: randomUUID(),
        runKind: "flow_run",
        runId: running,
        timestamp: new Date(Date.now() + 1000).toISOString(),
        type: "CANCELLED",
        name: "Cancelled",
        message: null,
        runCount: 1,
      },
    ]);
    expect((await api.call("GET", `/api/flow_runs/${running}`)).status).toBe(404);
    expect(await count("flow_run_states")).toBe(0);
  });
});

describe("deployments", () => {
  it("upserts by flow and name, creating the work pool, and reads it back in Prefect's shape", async () => {
    const deployment = await createDeployment(api, {
      parameters: { tableName: "users" },
      parameter_openapi_schema: ETL_PARAMETER_SCHEMA,
      tags: ["etl", "daily"],
      description: "Daily ETL",
      work_pool_name: "etl-pool",
      schedules: [
        { schedule: { cron: "0 6 * * *", timezone: "America/New_York" }, active: true },
        { schedule: { interval: 3600, anchor_date: "2030-01-01T00:00:00Z" } },
      ],
    });
    expect(deployment).toMatchObject({
      name: "daily-etl",
      entrypoint: "etl_pipeline.ts:etlPipeline",
      parameters: { tableName: "users" },
      tags: ["etl", "daily"],
      paused: false,
      work_pool_name: "etl-pool",
      work_queue_name: "default",
      enforce_parameter_schema: true,
      parameter_openapi_schema: ETL_PARAMETER_SCHEMA,
    });
    expect(deployment.schedules).toEqual([
      expect.objectContaining({
        active: true,
        schedule: { cron: "0 6 * * *", timezone: "America/New_York", day_or: true },
      }),
      expect.objectContaining({
        active: true,
        schedule: { interval: 3600, anchor_date: "2030-01-01T00:00:00.000Z", timezone: "UTC" },
      }),
    ]);

    const pool = await api.call("GET", "/api/work_pools/etl-pool");
    expect(pool.body).toMatchObject({ name: "etl-pool", type: "process", is_paused: false });
    expect(pool.body.default_queue_id).toEqual(expect.any(String));

    // Same flow and name: updated in place, schedules replaced.
    const again = await api.call("POST", "/api/deployments/", {
      name: "daily-etl",
      flow_id: deployment.flow_id,
      description: "Daily ETL, v2",
      schedules: [{ schedule: { interval: "PT15M" } }],
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id: deployment.id, description: "Daily ETL, v2", tags: ["etl", "daily"] });
    expect(again.body.schedules.map((s: { schedule: unknown }) => s.schedule)).toEqual([
      { interval: 900, anchor_date: null, timezone: "UTC" },
    ]);

    const byName = await api.call("GET", "/api/deployments/name/ETL%20Pipeline/daily-etl");
    expect(byName.body.id).toBe(deployment.id);
    expect((await api.call("GET", `/api/deployments/${deployment.id}`)).body.name).toBe("daily-etl");
  });

  it("filters by deployment name, tags and flow name, sorts, pages and counts", async () => {
    const a = await createDeployment(api, { name: "alpha", tags: ["etl", "daily"] });
    const b = await createDeployment(api, { name: "beta", tags: ["etl"] });
    const c = await createDeployment(api, { name: "gamma", tags: ["daily"] }, "Other Flow");
    const names = async (body: unknown) =>
      (await api.call("POST", "/api/deployments/filter", body)).body.map((d: { name: string }) => d.name);

    expect(await names({})).toEqual(["alpha", "beta", "gamma"]);
    expect(await names({ deployments: { name: { any_: ["beta"] } } })).toEqual(["beta"]);
    expect(await names({ deployments: { tags: { all_: ["etl", "daily"] } } })).toEqual(["alpha"]);
    expect(await names({ flows: { name: { any_: ["Other Flow"] } } })).toEqual(["gamma"]);
    expect(await names({ sort: "NAME_DESC", limit: 2 })).toEqual(["gamma", "beta"]);
    expect(await names({ sort: "NAME_ASC", offset: 2 })).toEqual(["gamma"]);
    expect((await api.call("POST", "/api/deployments/count", { deployments: { tags: { all_: ["etl"] } } })).body).toBe(
      2,
    );
    expect([a.id, b.id, c.id]).toHaveLength(3);
  });

  it("pauses, resumes, updates and deletes", async () => {
    const deployment = await createDeployment(api);
    expect((await api.call("POST", `/api/deployments/${deployment.id}/pause_deployment`)).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${deployment.id}`)).body.paused).toBe(true);
    expect((await api.call("POST", `/api/deployments/${deployment.id}/resume_deployment`)).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${deployment.id}`)).body.paused).toBe(false);

    const patched = await api.call("PATCH", `/api/deployments/${deployment.id}`, { tags: ["x"], concurrency_limit: 2 });
    expect(patched.status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${deployment.id}`)).body).toMatchObject({
      tags: ["x"],
      concurrency_limit: 2,
    });

    expect((await api.call("DELETE", `/api/deployments/${deployment.id}`)).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${deployment.id}`)).status).toBe(404);
    expect((await api.call("DELETE", `/api/deployments/${deployment.id}`)).status).toBe(404);
  });

  it("refuses bad schedules and an unknown flow with nothing written", async () => {
    const flow = await api.call("POST", "/api/flows/", { name: "f" });
    const badCron = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: flow.body.id,
      schedules: [{ schedule: { cron: "not a cron" } }],
    });
    expect(badCron.status).toBe(422);
    expect(badCron.body.detail[0].loc).toEqual(["body", "schedules", 0, "schedule", "cron"]);
    const badZone = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: flow.body.id,
      schedules: [{ schedule: { cron: "0 6 * * *", timezone: "Mars/Olympus" } }],
    });
    expect(badZone.status).toBe(422);
    const unknownFlow = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: "00000000-0000-4000-8000-000000000000",
    });
    expect(unknownFlow).toMatchObject({ status: 404, body: { detail: "Flow not found" } });
    expect(await count("deployments")).toBe(0);
    expect(await count("work_pools")).toBe(0);
  });
});

describe("create_flow_run", () => {
  it("writes a Scheduled run, then enqueues a job with the run's id on the pool's queue", async () => {
    const deployment = await createDeployment(api, { parameters: { tableName: "users" }, tags: ["etl"] });
    const created = await api.call("POST", `/api/deployments/${deployment.id}/create_flow_run`, {
      parameters: { apiUrl: "http://127.0.0.1:1/users" },
      tags: ["manual"],
    });
    expect(created.status).toBe(201);
    const run = created.body;
    expect(run).toMatchObject({
      deployment_id: deployment.id,
      flow_id: deployment.flow_id,
      state_type: "SCHEDULED",
      state_name: "Scheduled",
      parameters: { tableName: "users", apiUrl: "http://127.0.0.1:1/users" },
      tags: ["etl", "manual"],
      work_pool_name: "default-agent-pool",
      work_queue_name: "default",
      run_count: 0,
      auto_scheduled: false,
      infrastructure_pid: null,
      state: { type: "SCHEDULED", name: "Scheduled", data: null },
    });
    expect(run.name).toMatch(/^[a-z]+-[a-z]+$/);
    expect(run.state.state_details.scheduled_time).toBe(run.expected_start_time);

    const [row] = await api.query<{ state_type: string }>("SELECT state_type FROM flow_runs WHERE id = $1", [run.id]);
    expect(row?.state_type).toBe("SCHEDULED");
    const history = await api.query("SELECT name FROM flow_run_states WHERE flow_run_id = $1", [run.id]);
    expect(history).toEqual([{ name: "Scheduled" }]);

    const queue = api.queues.queue("default-agent-pool");
    expect(queue.name).toBe(flowRunQueueName("default-agent-pool"));
    const job = await queue.getJob(run.id);
    expect(job?.id).toBe(run.id);
    expect(job?.data).toMatchObject({
      flowRunId: run.id,
      flowName: "ETL Pipeline",
      entrypoint: "etl_pipeline.ts:etlPipeline",
      parameters: { tableName: "users", apiUrl: "http://127.0.0.1:1/users" },
      workPoolName: "default-agent-pool",
    });
    expect(await queue.getJobState(run.id)).toBe("waiting");
  });

  it("delays the job of a run scheduled in the future", async () => {
    const deployment = await createDeployment(api);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const created = await api.call("POST", `/api/deployments/${deployment.id}/create_flow_run`, {
      state: { type: "SCHEDULED", state_details: { scheduled_time: at } },
    });
    expect(created.status).toBe(201);
    expect(created.body.expected_start_time).toBe(at);
    expect(created.body.next_scheduled_start_time).toBe(at);
    expect(await api.queues.queue("default-agent-pool").getJobState(created.body.id)).toBe("delayed");
  });

  it("works with no body at all, or an empty one", async () => {
    const deployment = await createDeployment(api);
    const noBody = await fetch(`${api.baseUrl}/api/deployments/${deployment.id}/create_flow_run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(noBody.status).toBe(201);
    const empty = await api.call("POST", `/api/deployments/${deployment.id}/create_flow_run`, "");
    expect(empty.status).toBe(201);
    expect(await count("flow_runs")).toBe(2);
  });

  it("returns the same run for the same idempotency key", async () => {
    const deployment = await createDeployment(api);
    const path = `/api/deployments/${deployment.id}/create_flow_run`;
    const [first, second] = await Promise.all([
      api.call("POST", path, { idempotency_key: "nightly-2030-01-01" }),
      api.call("POST", path, { idempotency_key: "nightly-2030-01-01" }),
    ]);
    expect(first?.status).toBe(201);
    expect(second?.body.id).toBe(first?.body.id);
    expect(first?.body.idempotency_key).toBe("nightly-2030-01-01");
    const other = await api.call("POST", path, { idempotency_key: "another" });
    expect(other.body.id).not.toBe(first?.body.id);
    expect(await count("flow_runs")).toBe(2);
    expect(await count("flow_run_states")).toBe(2);
    expect(await api.queues.queue("default-agent-pool").getJobCounts("waiting")).toEqual({ waiting: 2 });
  });

  it("validates parameters against the deployment's schema: 422 naming the field, nothing written", async () => {
    const deployment = await createDeployment(api, {
      parameters: { tableName: "users" },
      parameter_openapi_schema: ETL_PARAMETER_SCHEMA,
    });
    const path = `/api/deployments/${deployment.id}/create_flow_run`;
    const badType = await api.call("POST", path, { parameters: { apiUrl: "http://x/users", batchSize: "ten" } });
    expect(badType.status).toBe(422);
    expect(badType.body.detail).toEqual([
      expect.objectContaining({ loc: ["body", "parameters", "batchSize"], type: "type" }),
    ]);
    const missing = await api.call("POST", path, {});
    expect(missing.status).toBe(422);
    expect(missing.body.detail).toEqual([
      { loc: ["body", "parameters", "apiUrl"], msg: "Field required", type: "missing" },
    ]);
    expect(await count("flow_runs")).toBe(0);
    expect(await api.queues.queue("default-agent-pool").getJobCounts()).toMatchObject({ waiting: 0, delayed: 0 });

    // Merged over the deployment's defaults, a valid set passes; enforcement can be switched off per run.
    expect((await api.call("POST", path, { parameters: { apiUrl: "http://x/users" } })).status).toBe(201);
    const unchecked = await api.call("POST", path, {
      parameters: { batchSize: "ten" },
      enforce_parameter_schema: false,
    });
    expect(unchecked.status).toBe(201);
  });

  it("never creates a run from a deployment as it was before another process changed it", async () => {
    const deployment = await createDeployment(api, {
      parameters: { tableName: "users" },
      parameter_openapi_schema: ETL_PARAMETER_SCHEMA,
    });
    const path = `/api/deployments/${deployment.id}/create_flow_run`;
    const first = await api.call("POST", path, { parameters: { apiUrl: "http://x/users" } });
    expect(first.body).toMatchObject({ parameters: { tableName: "users" }, work_queue_name: "default" });

    // Changed behind this API process's back (another API replica, or SQL): its next run follows.
    await api.query(
      `UPDATE deployments SET parameters = '{"tableName": "accounts"}', work_queue_name = 'nightly' WHERE id = $1`,
      [deployment.id],
    );
    const second = await api.call("POST", path, { parameters: { apiUrl: "http://x/users" } });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ parameters: { tableName: "accounts" }, work_queue_name: "nightly" });

    // A schema that no longer requires apiUrl accepts what the old one refused...
    const loosened = { ...ETL_PARAMETER_SCHEMA, required: ["tableName"] };
    await api.query("UPDATE deployments SET parameter_schema = $2 WHERE id = $1", [deployment.id, loosened]);
    expect((await api.call("POST", path, {})).status).toBe(201);
    // ...and one that requires batchSize refuses what the old one accepted.
    const tightened = { ...ETL_PARAMETER_SCHEMA, required: ["tableName", "batchSize"] };
    await api.query("UPDATE deployments SET parameter_schema = $2 WHERE id = $1", [deployment.id, tightened]);
    const refused = await api.call("POST", path, {});
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toEqual([expect.objectContaining({ loc: ["body", "parameters", "batchSize"] })]);

    // Deleted: 404, not a run of a deployment that is gone.
    expect((await api.call("DELETE", `/api/deployments/${deployment.id}`)).status).toBe(204);
    expect(await api.call("POST", path, {})).toMatchObject({ status: 404, body: { detail: "Deployment not found" } });
  });

  it("answers 404 for an unknown deployment and 422 for a malformed id", async () => {
    const unknown = await api.call("POST", "/api/deployments/00000000-0000-4000-8000-000000000000/create_flow_run");
    expect(unknown).toMatchObject({ status: 404, body: { detail: "Deployment not found" } });
    const malformed = await api.call("POST", "/api/deployments/not-a-uuid/create_flow_run");
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0]).toMatchObject({ loc: ["path", "id"], type: "uuid_parsing" });
  });
});
