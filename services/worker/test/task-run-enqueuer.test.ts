import { randomUUID } from "node:crypto";
import type { TaskRunJob } from "@sluice/queue";
import { createTestContext, type TestContext } from "@sluice/testing";
import { Queue } from "bullmq";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TaskRunEnqueuer } from "../src/task-run-enqueuer.js";

let ctx: TestContext;
let queue: Queue<TaskRunJob>;
/** The size of each batch the enqueuer sent. */
let batches: number[];
beforeEach(async () => {
  ctx = await createTestContext();
  queue = new Queue<TaskRunJob>("task-runs.pool", { connection: ctx.redis, prefix: ctx.prefix });
  batches = [];
  const addBulk = queue.addBulk.bind(queue);
  queue.addBulk = (jobs) => {
    batches.push(jobs.length);
    return addBulk(jobs);
  };
});
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
    expect(batches).toEqual([500, 500, 200]);
    // Workers take jobs from the tail of the wait list: the first submitted is the first taken.
    const waitList = await ctx.redis.lrange(`${ctx.prefix}:task-runs.pool:wait`, 0, -1);
    expect(waitList.reverse()).toEqual(jobs.map((data) => data.taskRunId));
    const stored = await queue.getJob(jobs[700]?.taskRunId ?? "");
    expect(stored?.data.args).toEqual([700]);
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
    const waiting = await queue.getWaiting(0, -1);
    expect(waiting.map((added) => added.id).sort()).toEqual([jobs[0]?.taskRunId, jobs[2]?.taskRunId].sort());
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
    expect(await queue.getWaitingCount()).toBe(60);
  });

  it("idle() waits until everything added so far is in the queue", async () => {
    const enqueuer = new TaskRunEnqueuer(queue);
    for (let i = 0; i < 700; i++) enqueuer.add(job(randomUUID(), i), () => {});
    await enqueuer.idle();
    expect(await queue.getWaitingCount()).toBe(700);
  });
});
