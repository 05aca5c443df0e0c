/**
 * Queued task runs under tag limits and rate limits on a task-run worker: a run that finds its
 * slot taken is AwaitingConcurrencySlot with its job parked (it holds no worker slot), and starts
 * when a run that frees the slot promotes it (or, for a slot of a dead holder, when its lease expires).
 */
import { randomUUID } from "node:crypto";
import { tagLimitKey } from "@sluice/core";
import { FlowRunCancellation, taskRunQueueName } from "@sluice/queue";
import { flow, getRunContext } from "@sluice/sdk";
import { waitFor } from "@sluice/testing";
import { Queue } from "bullmq";
import { beforeEach, expect, it } from "vitest";
import { quick, throttled, warehouseLoad } from "./flows/limited-tasks.js";
import { maxOverlap } from "./max-overlap.js";
import { taskRunTimes } from "./task-run-history.js";
import { POOL, useWorkerHarness } from "./worker-harness.js";

const harness = useWorkerHarness({ queueTaskRuns: true });

beforeEach(async () => {
  await harness.ctx.redis.hset(harness.keys.tagLimits, "warehouse", "1");
});

it("a tag limit of 1: waiting task runs are AwaitingConcurrencySlot off the worker, which runs other work meanwhile", async () => {
  await harness.startTaskRunWorker(2);
  const queue = new Queue(taskRunQueueName(POOL), { connection: harness.ctx.redis, prefix: harness.ctx.prefix });
  const parent = flow({ name: "Warehouse" }, async () => {
    const tagged = Array.from({ length: 6 }, () => warehouseLoad.submit(600));
    const other = quick.submit(7); // submitted after them, limited by nothing
    return { tagged: await Promise.all(tagged.map((future) => future.result())), other: await other.result() };
  });
  const running = parent();
  // One runs; the other five wait as delayed jobs, holding none of the worker's two slots.
  await waitFor("the tagged runs parked", async () => {
    const counts = await queue.getJobCounts("delayed");
    return (counts.delayed ?? 0) >= 4;
  });
  // Woken by the releases, not by their fallback delay (the lease's remaining life, ~30 s).
  expect(await running).toEqual({ tagged: [600, 600, 600, 600, 600, 600], other: 7 });
  await queue.close();

  const runs = await waitFor("every task run recorded", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.length === 7 && rows.every((row) => row.state_name === "Completed") && rows;
  });
  const tagged = runs.filter((run) => run.task_key === "warehouse_load");
  expect(maxOverlap(tagged.map((run) => ({ start: run.running, end: run.done })))).toBe(1);
  // One Pending each: a run picked again after waiting is not created twice.
  for (const run of tagged) {
    expect([
      ["Pending", "Running", "Completed"],
      ["Pending", "AwaitingConcurrencySlot", "Running", "Completed"],
    ]).toContainEqual(run.names);
  }
  expect(tagged.filter((run) => run.names.includes("AwaitingConcurrencySlot")).length).toBeGreaterThanOrEqual(4);
  // The untagged run did not wait behind them: the worker had a free slot while they waited.
  const other = runs.find((run) => run.task_key === "quick");
  expect(other?.names).toEqual(["Pending", "Running", "Completed"]);
  const firstTaggedDone = Math.min(...tagged.map((run) => run.done?.getTime() ?? Infinity));
  expect(other?.done?.getTime()).toBeLessThan(firstTaggedDone);
  // Every slot given back, nobody left waiting.
  expect(await harness.ctx.redis.zcard(harness.keys.leaseSlots(tagLimitKey("warehouse")))).toBe(0);
  expect(await harness.ctx.redis.zcard(harness.keys.leaseWaiters(tagLimitKey("warehouse")))).toBe(0);
}, 60_000);

it("a tag limit of 3 with 30 queued task runs on two workers: never more than 3 running at once, all complete", async () => {
  await harness.ctx.redis.hset(harness.keys.tagLimits, "warehouse", "3");
  await harness.startTaskRunWorker(4);
  await harness.startTaskRunWorker(4);
  const parent = flow({ name: "Warehouse" }, async () => warehouseLoad.map(Array.from({ length: 30 }, () => 50)));
  expect(await parent()).toHaveLength(30);
  const runs = await waitFor("every task run recorded", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.length === 30 && rows.every((row) => row.state_name === "Completed") && rows;
  });
  expect(maxOverlap(runs.map((run) => ({ start: run.running, end: run.done })))).toBeLessThanOrEqual(3);
  expect(runs.filter((run) => run.names.includes("AwaitingConcurrencySlot")).length).toBeGreaterThan(0);
  expect(await harness.ctx.redis.zcard(harness.keys.leaseSlots(tagLimitKey("warehouse")))).toBe(0);
}, 60_000);

it("a slot held by a dead holder delays a queued task run until its lease expires", async () => {
  await harness.startTaskRunWorker(2);
  const expiresAt = Date.now() + 1_500;
  // A lease nobody renews any more: its holder's worker was killed.
  await harness.ctx.redis.zadd(
    harness.keys.leaseSlots(tagLimitKey("warehouse")),
    expiresAt,
    "task-run-of-a-dead-worker",
  );
  const parent = flow({ name: "Warehouse" }, async () => warehouseLoad.submit(10).result());
  await expect(parent()).resolves.toBe(10);
  const [run] = await waitFor("the task run recorded", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows[0]?.state_name === "Completed" && rows;
  });
  expect(run?.names).toEqual(["Pending", "AwaitingConcurrencySlot", "Running", "Completed"]);
  expect(run?.running?.getTime()).toBeGreaterThanOrEqual(expiresAt);
}, 30_000);

it("a rate limit's full window parks the run until its oldest start leaves the window", async () => {
  await harness.startTaskRunWorker(2);
  const parent = flow({ name: "Throttled" }, async () => throttled.map([1, 2, 3, 4]).result());
  await expect(parent()).resolves.toEqual([1, 2, 3, 4]);
  const runs = await waitFor("every task run recorded", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.length === 4 && rows.every((row) => row.state_name === "Completed") && rows;
  });
  const starts = runs.map((run) => run.running?.getTime() ?? 0).sort((a, b) => a - b);
  // At most 2 starts per second (a little slack: Running is recorded just after the start is taken).
  expect((starts[2] as number) - (starts[0] as number)).toBeGreaterThanOrEqual(800);
  expect((starts[3] as number) - (starts[1] as number)).toBeGreaterThanOrEqual(800);
  expect(runs.filter((run) => run.names.includes("AwaitingConcurrencySlot")).length).toBeGreaterThanOrEqual(2);
}, 30_000);

it("cancelling the flow wakes its parked task runs: they end Cancelled without waiting for a slot", async () => {
  await harness.startTaskRunWorker(2);
  // The only slot is held for longer than the test waits.
  await harness.ctx.redis.zadd(harness.keys.leaseSlots(tagLimitKey("warehouse")), Date.now() + 25_000, "a-long-holder");
  let flowRunId = "";
  const parent = flow({ name: "Warehouse" }, async () => {
    flowRunId = getRunContext().flowRun?.id ?? "";
    return Promise.allSettled([warehouseLoad.submit(10).result(), warehouseLoad.submit(10).result()]);
  });
  const running = parent();
  await waitFor("both task runs waiting", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.length === 2 && rows.every((row) => row.state_name === "AwaitingConcurrencySlot");
  });
  await new FlowRunCancellation(harness.ctx.redis, harness.keys).announce(flowRunId);
  const outcomes = await running;
  expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
  const runs = await waitFor("both task runs Cancelled", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.every((row) => row.state_name === "Cancelled") && rows;
  });
  for (const run of runs) {
    expect(run.names).toEqual(["Pending", "AwaitingConcurrencySlot", "Cancelled"]);
    expect(run.running).toBeNull();
  }
}, 30_000);

it("a task-run worker forgets the cancellations it heard after a while: its memory stays small however many there are", async () => {
  const worker = await harness.startTaskRunWorker(2, { cancellationMemoryMs: 500 });
  const cancellation = new FlowRunCancellation(harness.ctx.redis, harness.keys);
  for (const flowRunId of [randomUUID(), randomUUID(), randomUUID()]) await cancellation.announce(flowRunId);
  await waitFor("the three announcements heard", async () => worker.rememberedCancellations === 3);
  await waitFor("the three forgotten", async () => worker.rememberedCancellations === 0, 5_000);
});
