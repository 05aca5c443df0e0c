/** `sluice worker start --pool NAME [--limit N] [--flows DIR]`: run a pool's flow runs until SIGTERM. */
import { hostname } from "node:os";
import { resolve } from "node:path";
import { startOrStop } from "@sluice/core";
import { createDatabase, PostgresResultStore } from "@sluice/db";
import { LocalReplies, redisKeys, TaskRunPayloads } from "@sluice/queue";
import { configureEngine } from "@sluice/sdk";
import { type Logger, startTelemetry } from "@sluice/telemetry";
import {
  buildClusterEngine,
  FlowRunWorker,
  QueueTaskDispatcher,
  startHeartbeats,
  startWorkerMetrics,
  TaskRunWorker,
} from "@sluice/worker";
import { Redis } from "ioredis";
import { apiClient, type CliConfig } from "../config.js";
import { printRunLog } from "../console-output.js";
import { limitHeapGrowth } from "../heap-growth.js";

export interface WorkerCommandOptions {
  pool: string;
  limit: string;
  flows: string;
  name?: string;
  taskLimit: string;
  /** Serve Prometheus metrics on this port (GET /metrics). */
  metricsPort?: string;
}

export async function workerStartCommand(
  options: WorkerCommandOptions,
  config: CliConfig,
  logger: Logger,
): Promise<number> {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`--limit must be a positive integer, got '${options.limit}'`);
  const taskLimit = Number(options.taskLimit);
  if (!Number.isInteger(taskLimit) || taskLimit < 1)
    throw new Error(`--task-limit must be a positive integer, got '${options.taskLimit}'`);
  const metricsPort = options.metricsPort === undefined ? undefined : Number(options.metricsPort);
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535))
    throw new Error(`--metrics-port must be a port number, got '${options.metricsPort}'`);
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const flowsDir = resolve(options.flows);
  limitHeapGrowth(config.heapGrowingPercent);
  // Traces (when OTEL_* configure an exporter): this worker's spans name its pool and itself.
  const telemetry = await startTelemetry({
    serviceName: "sluice-worker",
    attributes: { "service.instance.id": name, "sluice.work_pool.name": options.pool, "sluice.worker.name": name },
  });
  const client = apiClient(config);
  try {
    await client.createWorkPool({ name: options.pool });
  } catch (error) {
    logger.warn(
      { err: error },
      `could not make sure work pool '${options.pool}' exists through the API; consuming its queue anyway`,
    );
  }
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  const database = createDatabase(config.databaseUrl, {
    applicationName: `sluice-worker-${name}`,
    max: Math.max(2, limit),
  });
  const keys = redisKeys(config.redisPrefix);
  const cluster = buildClusterEngine(redis, database, keys);
  cluster.engine.onLog = (event, label) => printRunLog(event, label);
  // Task-run arguments and results too large for Redis go through Postgres (task_run_payloads).
  const payloads = new TaskRunPayloads({
    store: new PostgresResultStore(database.db, {
      onSweepError: (error) => logger.warn({ err: error }, "could not delete expired task-run payloads"),
    }),
    inlineLimitBytes: config.inlinePayloadBytes,
    onError: (error) => logger.warn({ err: error }, "could not delete task-run payloads (they expire)"),
  });
  // Task runs the flows here submit go on the pool's task queue, for every worker to share.
  // This process often runs the task runs its own flows submit: their replies skip Redis.
  const localReplies = new LocalReplies();
  const taskDispatcher = new QueueTaskDispatcher({
    connection: redis,
    prefix: config.redisPrefix,
    workPoolName: options.pool,
    flowsDir,
    local: cluster.engine.dispatcher,
    payloads,
    localReplies,
  });
  cluster.engine.dispatcher = taskDispatcher;
  configureEngine(cluster.engine);
  const taskWorker = new TaskRunWorker({
    connection: redis,
    prefix: config.redisPrefix,
    workPoolName: options.pool,
    flowsDir,
    limit: taskLimit,
    engine: cluster.engine,
    logger,
    payloads,
    localReplies,
    lockDurationMs: config.workerLockSeconds * 1000,
  });
  const worker = new FlowRunWorker({
    connection: redis,
    prefix: config.redisPrefix,
    workPoolName: options.pool,
    name,
    limit,
    flowsDir,
    engine: cluster.engine,
    logger,
    cancelGraceMs: config.cancelGraceSeconds * 1000,
    lockDurationMs: config.workerLockSeconds * 1000,
    stalledIntervalMs: config.workerLockSeconds * 500,
  });
  /** Everything started so far, stopped: after SIGTERM, or when starting fails (else its connections keep the process alive). */
  const stopAll = async () => {
    const steps = [
      () => worker.stop(),
      () => taskWorker.stop(),
      () => taskDispatcher.close(),
      () => payloads.settle(),
      () => cluster.events.flush(),
      () => cluster.leases.close(),
      async () => redis.disconnect(),
      () => database.close(),
      () => telemetry.shutdown(),
    ];
    // Each step whatever the others did (events that cannot be flushed must not keep Postgres open); the first error after.
    let failed: unknown;
    for (const step of steps) await step().catch((error: unknown) => (failed ??= error));
    if (failed !== undefined) throw failed;
  };
  let metrics = null as Awaited<ReturnType<typeof startWorkerMetrics>> | null; // set inside the start below
  await startOrStop(
    async () => {
      await taskWorker.start();
      await worker.start();
      if (metricsPort !== undefined) {
        metrics = await startWorkerMetrics({
          port: metricsPort,
          connection: redis,
          prefix: config.redisPrefix,
          workPoolName: options.pool,
          flowRunLimit: limit,
          taskRunLimit: taskLimit,
          logger,
        });
      }
    },
    stopAll,
    (error) => logger.warn({ err: error }, "could not stop everything the worker had started"),
  );
  const heartbeats = startHeartbeats(client, { workPoolName: options.pool, name, intervalSeconds: 10, logger });
  if (metrics) process.stdout.write(`Worker '${name}' metrics at http://0.0.0.0:${metrics.port}/metrics\n`);
  process.stdout.write(
    `Worker '${name}' started: pool '${options.pool}', up to ${limit} runs at once, flows from ${flowsDir}\n`,
  );

  await new Promise<void>((resolveStop) => {
    const stop = (signal: string) => {
      process.stdout.write(`${signal}: finishing running flow runs before exiting…\n`);
      resolveStop();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  heartbeats.stop();
  await metrics?.close();
  await stopAll();
  process.stdout.write(`Worker '${name}' stopped after ${worker.runsFinished} flow runs.\n`);
  return 0;
}
