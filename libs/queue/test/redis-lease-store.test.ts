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

  it("tryAcquire does not wait: a holder that gets no slot is noted as a waiter, oldest first", async () => {
    const first = await store.tryAcquire("deployment:d", 1, "run-1", { ttlMs: 10_000, waiter: "w-1" });
    expect(first.lease).not.toBeNull();
    const second = await store.tryAcquire("deployment:d", 1, "run-2", { ttlMs: 10_000, waiter: "w-2" });
    expect(second.lease).toBeNull();
    // Until the first lease would expire: the fallback of a waiter nobody wakes.
    expect(second.retryInMs).toBeGreaterThan(9_000);
    expect(second.retryInMs).toBeLessThanOrEqual(10_000);
    await store.tryAcquire("deployment:d", 1, "run-3", { ttlMs: 10_000, waiter: "w-3" });
    await store.tryAcquire("deployment:d", 1, "run-2", { ttlMs: 10_000, waiter: "w-2" }); // keeps its place
    // The holder itself takes its slot again (a run redelivered after its worker crashed).
    expect((await store.tryAcquire("deployment:d", 1, "run-1", { ttlMs: 10_000 })).lease).not.toBeNull();
    expect(await store.hasFreeSlot("deployment:d", 1)).toBe(false);

    expect(await store.nextWaiter("deployment:d")).toBe("w-2");

    // Releasing takes the longest waiter off the list to wake its job (these name no job: passed over).
    await first.lease?.release();
    expect(await store.hasFreeSlot("deployment:d", 1)).toBe(true);
    expect(await store.nextWaiter("deployment:d")).toBeNull();
    expect((await store.tryAcquire("deployment:d", 1, "run-3", { ttlMs: 10_000, waiter: "w-3" })).lease).not.toBeNull();
    // A waiter that takes a slot is no longer waiting.
    expect((await store.tryAcquire("deployment:d", 1, "run-4", { ttlMs: 10_000, waiter: "w-4" })).lease).toBeNull();
    expect((await store.tryAcquire("deployment:d", 2, "run-4", { ttlMs: 10_000, waiter: "w-4" })).lease).not.toBeNull();
    expect(await store.nextWaiter("deployment:d")).toBeNull();
    expect(await store.releaseHolder("deployment:d", "run-3")).toBe(true);
    expect(await store.releaseHolder("deployment:d", "run-3")).toBe(false);
  });
});
