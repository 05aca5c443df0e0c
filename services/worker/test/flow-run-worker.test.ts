import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createDatabase, type Database } from "@sluice/db";
import { type FlowRunJob, FlowRunQueues, redisKeys } from "@sluice/queue";
import { Recorder } from "@sluice/recorder";
import { configureEngine } from "@sluice/sdk";
import { createLogger } from "@sluice/telemetry";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildClusterEngine, type ClusterEngine, FlowRunWorker } from "../src/index.js";

const flowsDir = fileURLToPath(new URL("./flows", import.meta.url));
const logger = createLogger({ service: "test", level: "silent" });

let ctx: TestContext;
let database: Database;
let cluster: ClusterEngine;
let recorder: Recorder;
let queues: FlowRunQueues;
const workers: FlowRunWorker[] = [];

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl, { max: 4 });
  const keys = redisKeys(ctx.prefix);
  cluster = buildClusterEngine(ctx.redis, database, keys);
  configureEngine(cluster.engine);
  recorder = new Recorder({ redis: ctx.redis, db: database, keys, consumerName: "test", blockMs: 50 });
  await recorder.start();
  queues = new FlowRunQueues(ctx.redis, ctx.prefix);
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await queues.close();
  await cluster.events.flush();
  await recorder.stop();
  await cluster.leases.close();
  configureEngine(undefined);
  await database.close();
  await ctx.close();
});

async function startWorker(name: string, limit = 2): Promise<FlowRunWorker> {
  const worker = new FlowRunWorker({
    connection: ctx.redis,
    prefix: ctx.prefix,
    workPoolName: "test-pool",
    name,
    limit,
    flowsDir,
    engine: cluster.engine,
    logger,
  });
  await worker.start();
  workers.push(worker);
  return worker;
}

function job(overrides: Partial<FlowRunJob> = {}): FlowRunJob {
  return {
    flowRunId: randomUUID(),
    flowRunName: "test-run",
    flowName: "Hello",
    deploymentId: null,
    entrypoint: "hello.ts:hello",
    parameters: {},
    tags: [],
    scheduledTime: new Date().toISOString(),
    workPoolName: "test-pool",
    workQueueName: null,
    ...overrides,
  };
}

async function waitForStates(ids: string[], done: (state: string | null) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await database.pool.query<{ id: string; state_name: string | null }>(
      "SELECT id, state_name FROM flow_runs WHERE id = ANY($1)",
      [ids],
    );
    if (rows.length === ids.length && rows.every((row) => done(row.state_name))) return rows;
    if (Date.now() > deadline) throw new Error(`runs not done in time: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("flow-run workers", () => {
  it("two workers share a pool's runs, each run Completed with its result and logs", async () => {
    const first = await startWorker("w1");
    const second = await startWorker("w2");
    const jobs = Array.from({ length: 20 }, (_, i) => job({ parameters: { who: `n${i}`, sleepMs: 30 } }));
    await Promise.all(jobs.map((j) => queues.enqueue(j)));
    await waitForStates(
      jobs.map((j) => j.flowRunId),
      (state) => state === "Completed",
    );
    expect(first.runsFinished).toBeGreaterThan(0);
    expect(second.runsFinished).toBeGreaterThan(0);
    expect(first.runsFinished + second.runsFinished).toBe(20);
    const { rows } = await database.pool.query("SELECT result, parameters FROM flow_runs WHERE id = $1", [
      jobs[0]?.flowRunId,
    ]);
    expect(rows[0]).toMatchObject({ result: "HELLO N0", parameters: { who: "n0", sleepMs: 30 } });
  });

  it("a run whose entrypoint cannot be loaded ends Failed, saying why", async () => {
    await startWorker("w1");
    const broken = job({ entrypoint: "missing.ts:nothing" });
    await queues.enqueue(broken);
    const [row] = await waitForStates([broken.flowRunId], (state) => state === "Failed");
    expect(row?.state_name).toBe("Failed");
    const { rows } = await database.pool.query("SELECT state_message FROM flow_runs WHERE id = $1", [broken.flowRunId]);
    expect(rows[0]?.state_message).toContain("No such file: missing.ts");
  });

  it("an entrypoint outside the flows directory is refused", async () => {
    await startWorker("w1");
    const escaping = job({ entrypoint: "../../../../etc/passwd:x" });
    await queues.enqueue(escaping);
    await waitForStates([escaping.flowRunId], (state) => state === "Failed");
  });

  it("a delayed (scheduled) run waits for its time", async () => {
    await startWorker("w1");
    const later = job({ scheduledTime: new Date(Date.now() + 400).toISOString() });
    await queues.enqueue(later);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await database.pool.query("SELECT id FROM flow_runs WHERE id = $1", [later.flowRunId])).rows).toEqual([]);
    await waitForStates([later.flowRunId], (state) => state === "Completed");
  });

  it("stop() lets running flow runs finish", async () => {
    const worker = await startWorker("w1");
    const slow = job({ parameters: { sleepMs: 500 } });
    await queues.enqueue(slow);
    await waitForStates([slow.flowRunId], (state) => state === "Running");
    await worker.stop();
    workers.splice(workers.indexOf(worker), 1);
    await cluster.events.flush();
    await waitForStates([slow.flowRunId], (state) => state === "Completed");
  });
});
