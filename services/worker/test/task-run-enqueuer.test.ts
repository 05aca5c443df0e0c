import { randomUUID } from "node:crypto";
import { isChunkJob, runsOfChunk, type TaskRunJob, type TaskRunQueueJob } from "@sluice/queue";
import { createTestContext, type TestContext } from "@sluice/testing";
import { Queue } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskRunEnqueuer } from "../src/task-run-enqueuer.js";

let ctx: TestContext;
let queue: Queue<TaskRunQueueJob>;
/** The task runs in each batch the enqueuer sent. */
let batches: number[];
beforeEach(async () => {
  ctx = await createTestContext();
  queue = new Queue<TaskRunQueueJob>("task-runs.pool", { connection: ctx.redis, prefix: ctx.prefix });
  batches = [];
  const addBulk = queue.addBulk.bind(queue);
  queue.addBulk = (jobs) => {
    batches.push(jobs.flatMap(({ data }) => runsOf(data)).length);
    return addBulk(jobs);
  };
});

function runsOf(data: TaskRunQueueJob): TaskRunJob[] {
  return isChunkJob(data) ? runsOfChunk(data) : [data];
}

/** The queue's waiting jobs, first to be taken first. */
async function waitingJobs(): Promise<TaskRunQueueJob[]> {
  // Workers take jobs from the tail of the wait list: the first submitted is the first taken.
  const ids = (await ctx.redis.lrange(`${ctx.prefix}:task-runs.pool:wait`, 0, -1)).reverse();
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  return jobs.map((job) => job?.data as TaskRunQueueJob);
}

/** The task runs waiting in the queue, in the order workers take them. */
async function waitingRuns(): Promise<TaskRunJob[]> {
  return (await waitingJobs()).flatMap(runsOf);
}
afterEach(async () => {
  await queue.close();
  await ctx.close();
});

function job(taskRunId: string, item: number): TaskRunJob {
  return {
    taskRunId,
    taskName: "load_chunk",
    definedIn: null,
    args: [item],
    dynamicKey: item,
    flowRun: null,
    logPrints: false,
    module: "etl.ts",
    replyTo: null,
  };
}

/** Adds the jobs as a `.map()` does (all in one synchronous loop); resolves with each one's outcome. */
function addAll(enqueuer: TaskRunEnqueuer, jobs: TaskRunJob[]): Promise<(Error | "added")[]> {
  return Promise.all(
    jobs.map(
      (data) =>
        new Promise<Error | "added">((resolve) =>
          enqueuer.add(data, (error) => resolve(error === undefined ? "added" : (error as Error))),
        ),
    ),
  );
}

describe("the task-run enqueuer", () => {
  it("adds what a .map() submits at once in a few batches, in submission order", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    const jobs = Array.from({ length: 1200 }, (_, i) => job(randomUUID(), i));
    const outcomes = await addAll(enqueuer, jobs);
    expect(outcomes.every((outcome) => outcome === "added")).toBe(true);
    expect(batches).toEqual([800, 400]);
    // A full batch goes in chunks of the largest size, 16 of them: BullMQ's work per job is paid
    // once per 50 runs.
    const chunkSizes = (await waitingJobs()).map((data) => runsOf(data).length);
    expect(chunkSizes.slice(0, 16)).toEqual(Array(16).fill(50));
    const waiting = await waitingRuns();
    expect(waiting.map((run) => run.taskRunId)).toEqual(jobs.map((data) => data.taskRunId));
    expect(waiting[700]?.args).toEqual([700]);
  });

  it("puts runs without limits in chunk jobs of a few dozen, and each run of a limited task in a job of its own", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    const jobs = Array.from({ length: 500 }, (_, i) => ({ ...job(randomUUID(), i), limited: i % 100 === 0 }));
    await addAll(enqueuer, jobs);
    const waiting = await waitingJobs();
    const limited = waiting.filter((data) => !isChunkJob(data));
    expect(limited.map((data) => runsOf(data)[0]?.args)).toEqual([[0], [100], [200], [300], [400]]);
    const chunks = waiting.filter(isChunkJob);
    // A batch of 500 spreads over about 16 chunks: many workers share it.
    expect(chunks.length).toBeGreaterThanOrEqual(16);
    expect(Math.max(...chunks.map((data) => runsOfChunk(data).length))).toBeLessThanOrEqual(50);
    expect(chunks.every((data) => runsOfChunk(data).every((run) => !run.limited))).toBe(true);
    // Every run once, in submission order.
    expect((await waitingRuns()).map((run) => run.taskRunId)).toEqual(jobs.map((data) => data.taskRunId));

    // A few runs at once are not worth a chunk: each has its job.
    await queue.drain();
    await addAll(enqueuer, [job(randomUUID(), 0), job(randomUUID(), 1), job(randomUUID(), 2)]);
    expect((await waitingJobs()).every((data) => !isChunkJob(data))).toBe(true);
  });

  it("writes what a chunk's runs share once, and never puts runs of different flow runs or tasks in one chunk", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    const flowRuns = [
      { id: randomUUID(), name: "brave-otter", flowName: "etl" },
      { id: randomUUID(), name: "calm-heron", flowName: "etl" },
    ];
    // Two flows' .map()s in one batch, 40 runs at a time each (chunks of 25 for a batch of 400):
    // the first flow's runs of one task and to its reply stream, the second's of another task.
    const jobs = Array.from({ length: 400 }, (_, i) => {
      const first = Math.floor(i / 40) % 2 === 0;
      const flowRun = flowRuns[first ? 0 : 1] ?? null;
      return {
        ...job(randomUUID(), i),
        flowRun,
        taskName: first ? "load_chunk" : "transform",
        replyTo: `replies:${flowRun?.id}`,
      };
    });
    await addAll(enqueuer, jobs);
    // Each run comes back whole, with its own flow run, task and reply stream.
    expect(await waitingRuns()).toEqual(jobs.map((data) => expect.objectContaining(data)));
    const chunks = (await waitingJobs()).filter(isChunkJob).map(runsOfChunk);
    expect(chunks.length).toBeGreaterThanOrEqual(16);
    for (const chunk of chunks) {
      expect(chunk.length).toBeGreaterThan(1);
      expect(new Set(chunk.map((run) => `${run.flowRun?.id} ${run.taskName} ${run.replyTo}`)).size).toBe(1);
    }

    // A chunk of a .map() in one flow keeps the flow run, module and reply stream once, not per run.
    const [first] = (await waitingJobs()).filter(isChunkJob);
    const text = JSON.stringify(first);
    expect(runsOfChunk(first as NonNullable<typeof first>).length).toBe(25);
    expect(text.split(flowRuns[0]?.id ?? "").length - 1).toBe(2); // the flow run and its reply stream
    expect(text.split("etl.ts").length - 1).toBe(1);
  });

  it("when a batch fails, adds its jobs one by one: only the job at fault reports an error, none is added twice", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    // BullMQ refuses an integer job id; the runs around it are fine.
    const jobs = [job(randomUUID(), 0), job("12345", 1), job(randomUUID(), 2)];
    const outcomes = await addAll(enqueuer, jobs);
    expect(outcomes[0]).toBe("added");
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect((outcomes[1] as Error).message).toMatch(/cannot be integers/);
    expect(outcomes[2]).toBe("added");
    const waiting = await waitingRuns();
    expect(waiting.map((run) => run.taskRunId).sort()).toEqual([jobs[0]?.taskRunId, jobs[2]?.taskRunId].sort());
  });

  it("sends jobs added at any moment of a flush, even right as it ends", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    const outcomes: Promise<Error | "added">[] = [];
    for (let i = 0; i < 60; i++) {
      outcomes.push(addAll(enqueuer, [job(randomUUID(), i)]).then(([outcome]) => outcome ?? new Error("none")));
      // From 0 to 5 microtask turns between jobs: some land while a batch is out, some as a flush ends.
      for (let turn = 0; turn < i % 6; turn++) await Promise.resolve();
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await Promise.all(outcomes)).every((outcome) => outcome === "added")).toBe(true);
    expect((await waitingRuns()).length).toBe(60);
  });

  it("idle() waits until everything added so far is in the queue", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    for (let i = 0; i < 700; i++) enqueuer.add(job(randomUUID(), i), () => {});
    await enqueuer.idle();
    expect((await waitingRuns()).length).toBe(700);
  });
});
