import { redisKeys } from "@sluice/queue";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type ApiHarness, startApi } from "./support.js";

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

it("keeps tag limits in Postgres and Redis, and shows the tag's active slots", async () => {
  const keys = redisKeys(api.ctx.prefix);
  const created = await api.call("POST", "/api/concurrency_limits/", { tag: "database", concurrency_limit: 2 });
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ tag: "database", concurrency_limit: 2, active_slots: [] });
  expect(await api.ctx.redis.hget(keys.tagLimits, "database")).toBe("2");

  const updated = await api.call("POST", "/api/concurrency_limits/", { tag: "database", concurrency_limit: 5 });
  expect(updated).toMatchObject({ status: 200, body: { id: created.body.id, concurrency_limit: 5 } });
  expect(await api.ctx.redis.hget(keys.tagLimits, "database")).toBe("5");

  // A task run holding a slot (an unexpired lease), and one whose lease expired.
  const slots = keys.leaseSlots(keys.tagLimitKey("database"));
  await api.ctx.redis.zadd(slots, Date.now() + 60_000, "task-run-1", Date.now() - 1000, "task-run-gone");
  const byTag = await api.call("GET", "/api/concurrency_limits/tag/database");
  expect(byTag.body.active_slots).toEqual(["task-run-1"]);
  expect((await api.call("GET", `/api/concurrency_limits/${created.body.id}`)).body.tag).toBe("database");
  await api.call("POST", "/api/concurrency_limits/", { tag: "api", concurrency_limit: 1 });
  const listed = await api.call("POST", "/api/concurrency_limits/filter", {});
  expect(listed.body.map((l: { tag: string }) => l.tag)).toEqual(["api", "database"]);

  expect((await api.call("DELETE", "/api/concurrency_limits/tag/database")).status).toBe(204);
  expect(await api.ctx.redis.hget(keys.tagLimits, "database")).toBeNull();
  expect(await api.call("GET", "/api/concurrency_limits/tag/database")).toMatchObject({
    status: 404,
    body: { detail: "Concurrency limit not found" },
  });
  expect((await api.call("POST", "/api/concurrency_limits/", { tag: "x", concurrency_limit: -1 })).status).toBe(422);
});
