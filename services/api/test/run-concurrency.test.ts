/**
 * Concurrency limits on flow runs through the API: a deployment's concurrency_limit and
 * concurrency_options (Prefect's), and work pool and work queue limits as workers see them in Redis.
 */
import { redisKeys } from "@sluice/queue";
import { createLogger } from "@sluice/telemetry";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildApi } from "../src/index.js";
import { type ApiHarness, createDeployment, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

describe("deployment concurrency limits", () => {
  it("creates, reads and updates concurrency_limit and concurrency_options, with the slots in use", async () => {
    const created = await createDeployment(api, {
      concurrency_limit: 2,
      concurrency_options: { collision_strategy: "CANCEL_NEW" },
    });
    expect(created).toMatchObject({
      concurrency_limit: 2,
      concurrency_options: { collision_strategy: "CANCEL_NEW" },
      global_concurrency_limit: { name: `deployment:${created.id}`, limit: 2, active_slots: 0, active: true },
    });

    // A run holding a slot (a lease that has not expired) shows as a slot in use.
    const keys = redisKeys(api.ctx.prefix);
    await api.ctx.redis.zadd(keys.leaseSlots(`deployment:${created.id}`), Date.now() + 60_000, "some-run");
    const read = await api.call("GET", `/api/deployments/${created.id}`);
    expect(read.body.global_concurrency_limit).toMatchObject({ limit: 2, active_slots: 1 });
    const byName = await api.call("GET", "/api/deployments/name/ETL%20Pipeline/daily-etl");
    expect(byName.body.global_concurrency_limit.active_slots).toBe(1);
    const filtered = await api.call("POST", "/api/deployments/filter", {});
    expect(filtered.body[0].global_concurrency_limit.active_slots).toBe(1);

    // The run's job carries the limit: workers take the deployment's slot before starting it.
    const run = await api.call("POST", `/api/deployments/${created.id}/create_flow_run`);
    expect(run.status).toBe(201);
    const job = await api.queues.queue("default-agent-pool").getJob(run.body.id);
    expect(job?.data.deploymentConcurrency).toEqual({ limit: 2, collisionStrategy: "CANCEL_NEW" });

    const patch = (body: Record<string, unknown>) => api.call("PATCH", `/api/deployments/${created.id}`, body);
    expect((await patch({ concurrency_options: { collision_strategy: "ENQUEUE" } })).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${created.id}`)).body).toMatchObject({
      concurrency_limit: 2,
      concurrency_options: { collision_strategy: "ENQUEUE" },
    });
    // Fields left out stay as they are.
    expect((await patch({ tags: ["x"] })).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${created.id}`)).body.concurrency_options).toEqual({
      collision_strategy: "ENQUEUE",
    });
    // Explicit nulls remove them.
    expect((await patch({ concurrency_limit: null, concurrency_options: null })).status).toBe(204);
    expect((await api.call("GET", `/api/deployments/${created.id}`)).body).toMatchObject({
      concurrency_limit: null,
      concurrency_options: null,
      global_concurrency_limit: null,
    });
    const unlimited = await api.call("POST", `/api/deployments/${created.id}/create_flow_run`);
    const unlimitedJob = await api.queues.queue("default-agent-pool").getJob(unlimited.body.id);
    expect(unlimitedJob?.data.deploymentConcurrency).toBeUndefined();
  });

  it("a limit without a collision strategy has none stored (ENQUEUE applies)", async () => {
    const created = await createDeployment(api, { concurrency_limit: 1 });
    expect(created).toMatchObject({ concurrency_limit: 1, concurrency_options: null });
    const run = await api.call("POST", `/api/deployments/${created.id}/create_flow_run`);
    const job = await api.queues.queue("default-agent-pool").getJob(run.body.id);
    expect(job?.data.deploymentConcurrency).toEqual({ limit: 1, collisionStrategy: "ENQUEUE" });
  });

  it("refuses an unknown collision strategy or a limit below 1 with FastAPI-style 422 details", async () => {
    const flow = await api.call("POST", "/api/flows/", { name: "f" });
    const bad = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: flow.body.id,
      concurrency_limit: 1,
      concurrency_options: { collision_strategy: "CANCEL_OLD" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toEqual([
      {
        loc: ["body", "concurrency_options", "collision_strategy"],
        msg: "Input should be 'ENQUEUE' or 'CANCEL_NEW'",
        type: "enum",
        input: "CANCEL_OLD",
      },
    ]);
    const missing = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: flow.body.id,
      concurrency_options: {},
    });
    expect(missing.status).toBe(422);
    expect(missing.body.detail[0]).toMatchObject({
      loc: ["body", "concurrency_options", "collision_strategy"],
      type: "missing",
    });
    const zero = await api.call("POST", "/api/deployments/", {
      name: "d",
      flow_id: flow.body.id,
      concurrency_limit: 0,
    });
    expect(zero.status).toBe(422);
    expect(zero.body.detail[0].loc).toEqual(["body", "concurrency_limit"]);
    expect(Number((await api.query<{ n: string }>("SELECT count(*) AS n FROM deployments"))[0]?.n)).toBe(0);

    const deployment = await createDeployment(api);
    const badPatch = await api.call("PATCH", `/api/deployments/${deployment.id}`, {
      concurrency_options: { collision_strategy: "enqueue" },
    });
    expect(badPatch.status).toBe(422);
    expect(badPatch.body.detail[0].loc).toEqual(["body", "concurrency_options", "collision_strategy"]);
  });
});

describe("work pool and work queue limits", () => {
  it("mirrors work queue limits into Redis for the pool's workers: create, PATCH, pool delete", async () => {
    const keys = redisKeys(api.ctx.prefix);
    const limits = () => api.ctx.redis.hgetall(keys.workQueueLimits("etl"));
    await api.call("POST", "/api/work_pools/", { name: "etl" });
    const created = await api.call("POST", "/api/work_pools/etl/queues/", { name: "high", concurrency_limit: 2 });
    expect(created.status).toBe(201);
    expect(await limits()).toEqual({ high: "2" });

    const patch = (queue: string, body: Record<string, unknown>) =>
      api.call("PATCH", `/api/work_pools/etl/queues/${queue}`, body);
    expect((await patch("default", { concurrency_limit: 1 })).status).toBe(204);
    expect((await patch("high", { description: "urgent runs" })).status).toBe(204);
    expect(await limits()).toEqual({ high: "2", default: "1" });
    expect((await api.call("GET", "/api/work_pools/etl/queues/default")).body.concurrency_limit).toBe(1);
    expect((await patch("high", { concurrency_limit: null })).status).toBe(204);
    expect(await limits()).toEqual({ default: "1" });
    expect((await api.call("GET", "/api/work_pools/etl/queues/high")).body).toMatchObject({
      concurrency_limit: null,
      description: "urgent runs",
    });
    expect(await patch("missing", { concurrency_limit: 1 })).toMatchObject({
      status: 404,
      body: { detail: "Work queue not found" },
    });
    const badLimit = await patch("default", { concurrency_limit: -1 });
    expect(badLimit.status).toBe(422);
    expect(badLimit.body.detail[0].loc).toEqual(["body", "concurrency_limit"]);

    expect((await api.call("DELETE", "/api/work_pools/etl")).status).toBe(204);
    expect(await limits()).toEqual({});
  });

  it("copies pool limits and work queue limits from Postgres into a Redis that lost them, at start", async () => {
    await api.call("POST", "/api/work_pools/", { name: "etl", concurrency_limit: 2 });
    await api.call("POST", "/api/work_pools/etl/queues/", { name: "high", concurrency_limit: 1 });
    const keys = redisKeys(api.ctx.prefix);
    const queue = api.queues.queue("etl");
    expect(await queue.getGlobalConcurrency()).toBe(2);
    // Redis restarted empty, say.
    await queue.removeGlobalConcurrency();
    await api.ctx.redis.del(keys.workQueueLimits("etl"));

    const restarted = buildApi({
      db: api.database,
      redis: api.ctx.redis,
      prefix: api.ctx.prefix,
      logger: createLogger({ service: "api-test", level: "silent" }),
    });
    await restarted.ready();
    await restarted.close();
    expect(await queue.getGlobalConcurrency()).toBe(2);
    expect(await api.ctx.redis.hgetall(keys.workQueueLimits("etl"))).toEqual({ high: "1" });

    // A run of the queue holding its slot.
    await api.ctx.redis.zadd(keys.leaseSlots("work-queue:etl/high"), Date.now() + 60_000, "some-run");
    const health = await api.call("GET", "/api/work_pools/etl/health");
    expect(health.body).toMatchObject({
      concurrency_limit: 2,
      concurrency_in_use: 0,
      work_queues: [{ name: "high", concurrency_limit: 1, concurrency_in_use: 1 }],
    });
  });
});
