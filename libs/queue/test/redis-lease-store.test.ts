import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RedisLeaseStore, redisKeys } from "../src/index.js";

let ctx: TestContext;
let store: RedisLeaseStore;
beforeEach(async () => {
  ctx = await createTestContext();
  store = new RedisLeaseStore(ctx.redis, redisKeys(ctx.prefix));
});
afterEach(async () => {
  await store.close();
  await ctx.close();
});

describe("Redis leases", () => {
  it("hold at most `limit` slots; a released slot wakes a waiter at once", async () => {
    const first = await store.acquire("tag:warehouse", 1, "run-1", { ttlMs: 10_000 });
    let waited = false;
    const started = Date.now();
    const second = store.acquire("tag:warehouse", 1, "run-2", {
      ttlMs: 10_000,
      onWait: () => {
        waited = true;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(waited).toBe(true);
    await first.release();
    await (await second).release();
    // Woken by the release message, not by the 10 s lease expiry.
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a slot held by a dead holder (no renewals) frees itself when its lease expires", async () => {
    // A worker that died holding the slot: its lease is in Redis, nobody renews it.
    await ctx.redis.zadd(redisKeys(ctx.prefix).leaseSlots("tag:warehouse"), Date.now() + 400, "dead-run");
    const started = Date.now();
    const lease = await store.acquire("tag:warehouse", 1, "run-2", { ttlMs: 10_000 });
    const waitedMs = Date.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(300);
    expect(waitedMs).toBeLessThan(3000);
    await lease.release();
  });

  it("a waiter whose run is cancelled stops waiting", async () => {
    await store.acquire("tag:warehouse", 1, "run-1", { ttlMs: 10_000 });
    const controller = new AbortController();
    const waiting = store.acquire("tag:warehouse", 1, "run-2", { ttlMs: 10_000, signal: controller.signal });
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
  });
});
