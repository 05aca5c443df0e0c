import { randomUUID } from "node:crypto";
import { createTestContext, type TestContext } from "@sluice/testing";
import { Worker } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bullmqConnection, type FlowRunJob, FlowRunQueues, flowRunQueueName } from "../src/index.js";

let ctx: TestContext;
let queues: FlowRunQueues;
beforeEach(async () => {
  ctx = await createTestContext();
  queues = new FlowRunQueues(ctx.redis, ctx.prefix);
});
afterEach(async () => {
  await queues.close();
  await ctx.close();
});

const POOL = "default-agent-pool";
const job = (flowRunId: string, scheduledTime = new Date().toISOString()): FlowRunJob => ({
  flowRunId,
  flowRunName: flowRunId,
  flowName: "ETL Pipeline",
  deploymentId: null,
  entrypoint: "flows/etl.ts:etl",
  parameters: {},
  tags: [],
  scheduledTime,
  workPoolName: POOL,
  workQueueName: null,
});

describe("FlowRunQueues.remove", () => {
  it("counts as removed only a job no worker has taken: a missing, running or finished one does not", async () => {
    // Run ids (a job id such as "waiting" would be one of BullMQ's own keys).
    const [waiting, delayed, missing, running] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await queues.enqueue(job(waiting));
    await queues.enqueue(job(delayed, new Date(Date.now() + 3600_000).toISOString()));
    expect(await queues.remove(POOL, waiting)).toBe(true);
    expect(await queues.remove(POOL, delayed)).toBe(true);
    expect(await queues.has(POOL, waiting)).toBe(false);
    expect(await queues.remove(POOL, missing)).toBe(false);

    // A worker takes a job, holds it, then finishes it.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let taken = () => {};
    const started = new Promise<void>((resolve) => {
      taken = resolve;
    });
    const connection = bullmqConnection(ctx.redis, { maxRetriesPerRequest: null });
    const worker = new Worker(
      flowRunQueueName(POOL),
      async () => {
        taken();
        await held;
      },
      { connection, prefix: ctx.prefix },
    );
    try {
      await queues.enqueue(job(running));
      await started;
      expect(await queues.remove(POOL, running)).toBe(false);
      expect(await queues.has(POOL, running)).toBe(true);
      release();
      await new Promise<void>((resolve) => worker.on("completed", () => resolve()));
      // It ran: not "removed before it started", but gone, so a retry can enqueue the run again.
      expect(await queues.remove(POOL, running)).toBe(false);
      expect(await queues.has(POOL, running)).toBe(false);
      await queues.enqueue(job(running, new Date(Date.now() + 3600_000).toISOString()));
      expect(await queues.queue(POOL).getJobState(running)).toBe("delayed");
    } finally {
      await worker.close();
      connection.disconnect();
    }
  });
});
