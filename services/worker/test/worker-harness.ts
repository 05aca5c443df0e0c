/**
 * What the in-process worker tests share: a fresh test context per test (Redis prefix and database),
 * the cluster engine on it configured as the SDK's engine, a running recorder, flow-run queues, and
 * workers of the test pool started through the harness and stopped after each test.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createDatabase, type Database } from "@sluice/db";
import { type FlowRunJob, FlowRunQueues, type RedisKeys, redisKeys } from "@sluice/queue";
import { Recorder } from "@sluice/recorder";
import { configureEngine } from "@sluice/sdk";
import { createLogger } from "@sluice/telemetry";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach } from "vitest";
import {
  buildClusterEngine,
  type ClusterEngine,
  FlowRunWorker,
  type FlowRunWorkerOptions,
  QueueTaskDispatcher,
  TaskRunWorker,
  type TaskRunWorkerOptions,
} from "../src/index.js";

/** The work pool of every worker the harness starts. */
export const POOL = "test-pool";
const flowsDir = fileURLToPath(new URL("./flows", import.meta.url));
const logger = createLogger({ service: "test", level: "silent" });

export interface WorkerHarnessOptions {
  /** Task runs go through the pool's task-run queue (a QueueTaskDispatcher) rather than run in-process. */
  queueTaskRuns?: boolean;
}

/** The resources the harness makes for each test. */
export interface WorkerResources {
  ctx: TestContext;
  keys: RedisKeys;
  database: Database;
  cluster: ClusterEngine;
  recorder: Recorder;
  queues: FlowRunQueues;
}

/** This test's resources (read them inside hooks and tests, never at module load) and worker helpers. */
export interface WorkerHarness extends Readonly<WorkerResources> {
  /** A flow-run worker of the pool named `name`, taking `limit` runs at once; stopped after the test. */
  startFlowRunWorker(name: string, limit: number, options?: Partial<FlowRunWorkerOptions>): Promise<FlowRunWorker>;
  /** A task-run worker of the pool taking `limit` runs at once, like `worker start --task-limit N`. */
  startTaskRunWorker(limit: number, options?: Partial<TaskRunWorkerOptions>): Promise<TaskRunWorker>;
  /** Stops a worker the harness started, which then is not stopped again after the test. */
  stopWorker(worker: FlowRunWorker | TaskRunWorker): Promise<void>;
}

/** Registers the beforeEach/afterEach that set up and tear down a {@link WorkerHarness} for every test. */
export function useWorkerHarness(options: WorkerHarnessOptions = {}): WorkerHarness {
  // Filled in by each beforeEach: the harness handed out is this object, so tests see the live resources.
  const live = {} as WorkerResources;
  let dispatcher: QueueTaskDispatcher | undefined;
  const workers: (FlowRunWorker | TaskRunWorker)[] = [];

  beforeEach(async () => {
    const ctx = await createTestContext();
    live.ctx = ctx;
    live.database = createDatabase(ctx.databaseUrl, { max: 4 });
    live.keys = redisKeys(ctx.prefix);
    live.cluster = buildClusterEngine(ctx.redis, live.database, live.keys);
    if (options.queueTaskRuns) {
      dispatcher = new QueueTaskDispatcher({
        connection: ctx.redis,
        prefix: ctx.prefix,
        workPoolName: POOL,
        flowsDir,
        local: live.cluster.engine.dispatcher,
      });
      live.cluster.engine.dispatcher = dispatcher;
    }
    configureEngine(live.cluster.engine);
    live.recorder = new Recorder({
      redis: ctx.redis,
      db: live.database,
      keys: live.keys,
      consumerName: "test",
      blockMs: 50,
    });
    await live.recorder.start();
    live.queues = new FlowRunQueues(ctx.redis, ctx.prefix);
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await live.queues.close();
    await dispatcher?.close();
    dispatcher = undefined;
    await live.cluster.events.flush();
    await live.recorder.stop();
    await live.cluster.leases.close();
    configureEngine(undefined);
    await live.database.close();
    await live.ctx.close();
  });

  async function started<W extends FlowRunWorker | TaskRunWorker>(worker: W): Promise<W> {
    await worker.start();
    workers.push(worker);
    return worker;
  }

  /** What every worker of the harness is given. */
  const inPool = () => ({
    connection: live.ctx.redis,
    prefix: live.ctx.prefix,
    workPoolName: POOL,
    flowsDir,
    engine: live.cluster.engine,
    logger,
  });

  const helpers: Omit<WorkerHarness, keyof WorkerResources> = {
    startFlowRunWorker: (name, limit, extra = {}) => started(new FlowRunWorker({ ...inPool(), name, limit, ...extra })),
    startTaskRunWorker: (limit, extra = {}) => started(new TaskRunWorker({ ...inPool(), limit, ...extra })),
    async stopWorker(worker) {
      await worker.stop();
      const index = workers.indexOf(worker);
      if (index >= 0) workers.splice(index, 1);
    },
  };
  return Object.assign(live, helpers);
}

/** A flow-run job of the test pool running hello.ts:hello now, with `overrides`. */
export function flowRunJob(overrides: Partial<FlowRunJob> = {}): FlowRunJob {
  return {
    flowRunId: randomUUID(),
    flowRunName: "test-run",
    flowName: "Hello",
    deploymentId: null,
    entrypoint: "hello.ts:hello",
    parameters: {},
    tags: [],
    scheduledTime: new Date().toISOString(),
    workPoolName: POOL,
    workQueueName: null,
    ...overrides,
  };
}
