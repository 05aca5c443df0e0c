/**
 * Chunk jobs: the runs a flow submits together that no limit holds share BullMQ jobs (see
 * task-run-queue.ts). Each is still a task run of its own (recorded, replied to, within the
 * worker's task-run limit), and a chunk handed to another worker after its worker died runs only
 * the runs that had not finished.
 */
import { randomUUID } from "node:crypto";
import {
  ChunkProgress,
  chunkJob,
  type FullChunkJob,
  isChunkJob,
  type TaskRunJob,
  type TaskRunQueueJob,
  taskRunQueueName,
} from "@sluice/queue";
import { flow } from "@sluice/sdk";
import { waitFor } from "@sluice/testing";
import { Queue, Worker } from "bullmq";
import { expect, it } from "vitest";
import { doubled, slowDoubled } from "./flows/limited-tasks.js";
import { maxOverlap } from "./max-overlap.js";
import { taskRunTimes } from "./task-run-history.js";
import { POOL, useWorkerHarness } from "./worker-harness.js";

const harness = useWorkerHarness({ queueTaskRuns: true });

it("a .map() travels in chunk jobs: results in order, a full history per run, never more runs at once than the worker's limit", async () => {
  const queue = new Queue<TaskRunQueueJob>(taskRunQueueName(POOL), {
    connection: harness.ctx.redis,
    prefix: harness.ctx.prefix,
  });
  const added: TaskRunQueueJob[] = [];
  const parent = flow({ name: "Doubling" }, async () => doubled.map(Array.from({ length: 200 }, (_, i) => i)));
  const running = parent();
  // Seen before any worker takes them: the runs went in chunk jobs.
  await waitFor("the chunk jobs", async () => {
    const waiting = await queue.getWaiting(0, -1);
    added.push(...waiting.map((job) => job.data));
    return waiting.length > 0;
  });
  expect(added.some(isChunkJob)).toBe(true);
  await queue.close();

  await harness.startTaskRunWorker(5);
  expect(await running).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
  const runs = await waitFor("every task run recorded Completed", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.length === 200 && rows.every((row) => row.state_name === "Completed") && rows;
  });
  for (const run of runs) expect(run.names).toEqual(["Pending", "Running", "Completed"]);
  expect(maxOverlap(runs.map((run) => ({ start: run.running, end: run.done })))).toBeLessThanOrEqual(5);
});

it("a worker takes no more chunks than it can start: the others get theirs, and a .map() of slow tasks ends on every worker", async () => {
  const queue = new Queue<TaskRunQueueJob>(taskRunQueueName(POOL), {
    connection: harness.ctx.redis,
    prefix: harness.ctx.prefix,
  });
  // 320 runs: 16 chunks of 20, for two workers that run 6 at a time each.
  const parent = flow({ name: "Slow Doubling" }, async () => slowDoubled.map(Array.from({ length: 320 }, (_, i) => i)));
  const running = parent();
  await waitFor("the chunk jobs", async () => (await queue.getWaitingCount()) === 16);
  const workers = await Promise.all([harness.startTaskRunWorker(6), harness.startTaskRunWorker(6)]);

  let mostHeld = 0;
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const held = await queue.getActiveCount();
      mostHeld = Math.max(mostHeld, held);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  expect(await running).toEqual(Array.from({ length: 320 }, (_, i) => i * 2));
  done = true;
  await sampling;
  await queue.close();
  // Taking jobs while it had slots to spare, each worker would have held 6 chunks (120 runs).
  expect(mostHeld).toBeGreaterThan(0);
  expect(mostHeld).toBeLessThanOrEqual(4);
  for (const worker of workers) expect(worker.taskRunsFinished).toBeGreaterThan(100);
});

/** Runs of `doubled` outside any flow run, as a chunk job carries them. */
function doubledRuns(count: number): TaskRunJob[] {
  return Array.from({ length: count }, (_, i) => ({
    taskRunId: randomUUID(),
    taskName: "doubled",
    definedIn: null,
    args: [i],
    dynamicKey: i,
    flowRun: null,
    logPrints: false,
    limited: false,
    module: "limited-tasks.ts",
    replyTo: null,
  }));
}

it("a chunk picked again after its worker died runs only the runs that had not finished", async () => {
  const { ctx, keys } = harness;
  const queue = new Queue<TaskRunQueueJob>(taskRunQueueName(POOL), { connection: ctx.redis, prefix: ctx.prefix });
  const runs = doubledRuns(5);
  const jobId = `chunk-${runs[0]?.taskRunId}`;
  await queue.add("task-run-chunk", chunkJob(runs), { jobId, attempts: 1, removeOnComplete: true });

  // A worker takes the chunk, finishes two of its runs (marked in Redis) and dies holding it.
  // (Taken by hand: nothing renews its lock, as nothing would in a killed process.)
  const connection = ctx.redis.duplicate({ maxRetriesPerRequest: null });
  const dying = new Worker<TaskRunQueueJob>(taskRunQueueName(POOL), null, {
    connection,
    prefix: ctx.prefix,
    lockDuration: 500,
  });
  expect((await dying.getNextJob(randomUUID()))?.id).toBe(jobId);
  const progress = new ChunkProgress(ctx.redis, keys);
  await Promise.all([
    progress.markDone(jobId, runs[0]?.taskRunId ?? ""),
    progress.markDone(jobId, runs[3]?.taskRunId ?? ""),
  ]);
  await dying.close();
  connection.disconnect();

  // Another worker finds the chunk stalled once its lock expires, and runs the other three.
  await harness.startTaskRunWorker(4, { lockDurationMs: 1_000 });
  const recorded = await waitFor("three runs recorded Completed", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.filter((row) => row.state_name === "Completed").length === 3 && rows;
  });
  expect(recorded.map((row) => row.id).sort()).toEqual([runs[1], runs[2], runs[4]].map((run) => run?.taskRunId).sort());
  await waitFor("the chunk done and its marks dropped", async () => {
    const [exists, counts] = await Promise.all([
      ctx.redis.exists(keys.chunkDone(jobId)),
      queue.getJobCounts("active", "wait"),
    ]);
    return exists === 0 && counts.active === 0 && counts.wait === 0;
  });
  await queue.close();
});

it("a chunk job an older worker queued, each run written whole, still runs", async () => {
  const queue = new Queue<TaskRunQueueJob>(taskRunQueueName(POOL), {
    connection: harness.ctx.redis,
    prefix: harness.ctx.prefix,
  });
  const runs = doubledRuns(3);
  const older: FullChunkJob = { chunk: runs };
  await queue.add("task-run-chunk", older, { jobId: `chunk-${runs[0]?.taskRunId}`, removeOnComplete: true });
  await harness.startTaskRunWorker(4);
  const recorded = await waitFor("the three runs recorded Completed", async () => {
    const rows = await taskRunTimes(harness.database);
    return rows.filter((row) => row.state_name === "Completed").length === 3 && rows;
  });
  expect(recorded.map((row) => row.id).sort()).toEqual(runs.map((run) => run.taskRunId).sort());
  await queue.close();
});
