import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ApiHarness, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

describe("work pools", () => {
  it("creates, reads, filters, counts, updates and deletes pools", async () => {
    const created = await api.call("POST", "/api/work_pools/", { name: "etl", description: "ETL workers" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "etl",
      type: "process",
      description: "ETL workers",
      is_paused: false,
      concurrency_limit: null,
      status: "NOT_READY",
    });
    expect(created.body.default_queue_id).toEqual(expect.any(String));
    const duplicate = await api.call("POST", "/api/work_pools/", { name: "etl" });
    expect(duplicate).toMatchObject({ status: 409, body: { detail: "Work pool already exists." } });
    await api.call("POST", "/api/work_pools/", { name: "gpu", type: "kubernetes" });

    expect((await api.call("GET", "/api/work_pools/etl")).body.id).toBe(created.body.id);
    expect(await api.call("GET", "/api/work_pools/missing")).toMatchObject({
      status: 404,
      body: { detail: "Work pool not found" },
    });
    const all = await api.call("POST", "/api/work_pools/filter");
    expect(all.body.map((p: { name: string }) => p.name)).toEqual(["etl", "gpu"]);
    const byType = await api.call("POST", "/api/work_pools/filter", { work_pools: { type: { any_: ["kubernetes"] } } });
    expect(byType.body.map((p: { name: string }) => p.name)).toEqual(["gpu"]);
    expect((await api.call("POST", "/api/work_pools/count", {})).body).toBe(2);

    expect((await api.call("PATCH", "/api/work_pools/etl", { is_paused: true, concurrency_limit: 3 })).status).toBe(
      204,
    );
    expect((await api.call("GET", "/api/work_pools/etl")).body).toMatchObject({
      is_paused: true,
      concurrency_limit: 3,
      status: "PAUSED",
    });
    // The pool's settings hold on its Redis queue, for every worker at once.
    const queue = api.queues.queue("etl");
    expect(await queue.isPaused()).toBe(true);
    expect(await queue.getGlobalConcurrency()).toBe(3);
    await api.call("PATCH", "/api/work_pools/etl", { is_paused: false, concurrency_limit: null });
    expect(await queue.isPaused()).toBe(false);
    expect(await queue.getGlobalConcurrency()).toBeNull();

    expect((await api.call("DELETE", "/api/work_pools/gpu")).status).toBe(204);
    expect((await api.call("GET", "/api/work_pools/gpu")).status).toBe(404);
  });

  it("refuses pool names that cannot name a Redis queue", async () => {
    const bad = await api.call("POST", "/api/work_pools/", { name: "a:b" });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["body", "name"]);
  });

  it("creates, reads and filters queues", async () => {
    await api.call("POST", "/api/work_pools/", { name: "etl" });
    const created = await api.call("POST", "/api/work_pools/etl/queues/", {
      name: "high",
      priority: 1,
      concurrency_limit: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "high", priority: 1, concurrency_limit: 2, work_pool_name: "etl" });
    expect((await api.call("POST", "/api/work_pools/etl/queues/", { name: "high" })).status).toBe(409);
    expect((await api.call("POST", "/api/work_pools/nope/queues/", { name: "x" })).status).toBe(404);

    expect((await api.call("GET", "/api/work_pools/etl/queues/high")).body.id).toBe(created.body.id);
    expect((await api.call("GET", "/api/work_pools/etl/queues/low")).status).toBe(404);
    const queues = await api.call("POST", "/api/work_pools/etl/queues/filter", {});
    expect(queues.body.map((q: { name: string }) => q.name).sort()).toEqual(["default", "high"]);
    const named = await api.call("POST", "/api/work_pools/etl/queues/filter", {
      work_queues: { name: { any_: ["high"] } },
    });
    expect(named.body).toHaveLength(1);
  });

  it("records workers' heartbeats: the worker is online and the pool ready", async () => {
    await api.call("POST", "/api/work_pools/", { name: "etl" });
    const beat = await api.call("POST", "/api/work_pools/etl/workers/heartbeat", {
      name: "worker-1",
      heartbeat_interval_seconds: 10,
    });
    expect(beat.status).toBe(204);
    await api.call("POST", "/api/work_pools/etl/workers/heartbeat", { name: "worker-1" });
    await api.call("POST", "/api/work_pools/etl/workers/heartbeat", { name: "worker-2" });
    const id = await api.call("POST", "/api/work_pools/etl/workers/heartbeat", {
      name: "worker-2",
      get_worker_id: true,
    });
    expect(id.body).toMatch(/^[0-9a-f-]{36}$/);

    const workers = await api.call("POST", "/api/work_pools/etl/workers/filter", {});
    expect(workers.status).toBe(200);
    expect(workers.body.map((w: { name: string }) => w.name).sort()).toEqual(["worker-1", "worker-2"]);
    expect(workers.body.find((w: { name: string }) => w.name === "worker-1")).toMatchObject({
      status: "ONLINE",
      heartbeat_interval_seconds: 10,
    });
    const offline = await api.call("POST", "/api/work_pools/etl/workers/filter", {
      workers: { status: { any_: ["OFFLINE"] } },
    });
    expect(offline.body).toEqual([]);
    expect((await api.call("GET", "/api/work_pools/etl")).body.status).toBe("READY");

    // A worker whose heartbeats stopped is offline.
    await api.query("UPDATE workers SET last_heartbeat_time = now() - interval '1 hour' WHERE name = 'worker-1'");
    const stale = await api.call("POST", "/api/work_pools/etl/workers/filter", {
      workers: { status: { any_: ["OFFLINE"] } },
    });
    expect(stale.body.map((w: { name: string }) => w.name)).toEqual(["worker-1"]);

    const unknown = await api.call("POST", "/api/work_pools/nope/workers/heartbeat", { name: "w" });
    expect(unknown.status).toBe(404);
    expect((await api.call("POST", "/api/work_pools/etl/workers/heartbeat", {})).status).toBe(422);
  });
});
