/**
 * Cluster mode for `sluice run`: events go to the Redis stream, caches and leases live in Redis,
 * and Postgres holds the record. When no server is running, an in-process recorder drains the
 * stream; before exiting we wait until every event of this run is committed, whoever recorded it.
 * The run listens on the cancellation channel as a worker's runs do: cancelled through the API or
 * the UI, it stops and ends Cancelled.
 */
import { hostname } from "node:os";
import { CancelledError, startOrStop, UnavailableError } from "@sluice/core";
import { createDatabase, migrateDatabase } from "@sluice/db";
import { FlowRunCancellation, isRecordedUpTo, type RedisKeys, redisKeys } from "@sluice/queue";
import { Recorder } from "@sluice/recorder";
import type { CancellationWatch, Engine } from "@sluice/sdk";
import type { Logger } from "@sluice/telemetry";
import { buildClusterEngine } from "@sluice/worker";
import { Redis } from "ioredis";
import { type CliConfig, redactUrl } from "../config.js";
import { printRunLog } from "../console-output.js";

export interface RunningEngine {
  engine: Engine;
  /** Where the data goes, for the mode line. */
  description: string;
  /** Waits until everything is recorded, then disconnects. */
  close(options?: { onWaiting?: () => void }): Promise<void>;
}

export async function startClusterEngine(config: CliConfig, logger: Logger): Promise<RunningEngine> {
  const redis = new Redis(config.redisUrl, { enableAutoPipelining: true, lazyConnect: true, maxRetriesPerRequest: 3 });
  redis.on("error", (error) => logger.debug({ err: error }, "redis connection error"));
  try {
    await redis.connect();
  } catch (error) {
    throw new UnavailableError(`Cannot connect to Redis at ${redactUrl(config.redisUrl)}: ${String(error)}`, {
      cause: error,
    });
  }
  try {
    await migrateDatabase(config.databaseUrl);
  } catch (error) {
    redis.disconnect();
    throw new UnavailableError(
      `Cannot prepare the Postgres database at ${redactUrl(config.databaseUrl)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const database = createDatabase(config.databaseUrl, { applicationName: "sluice-run", max: 5 });
  const keys = redisKeys(config.redisPrefix);
  const { engine, events, leases } = buildClusterEngine(redis, database, keys);
  const recorder = new Recorder({
    redis,
    db: database,
    keys,
    consumerName: `sluice-run-${hostname()}-${process.pid}`,
    logger,
    blockMs: 100, // short reads, so the CLI exits promptly once its events are recorded
  });
  let cancellations: Awaited<ReturnType<typeof watchCancellations>>;
  try {
    cancellations = await watchCancellations(redis, keys, config.cancelGraceSeconds * 1000, logger);
  } catch (error) {
    redis.disconnect();
    await database.close();
    throw new UnavailableError(`Cannot listen for cancellations on Redis: ${String(error)}`, { cause: error });
  }
  engine.watchCancellation = cancellations.watch;
  await startOrStop(
    () => recorder.start(),
    async () => {
      await cancellations.close();
      redis.disconnect();
      await database.close();
    },
  );

  engine.onLog = (event, label) => printRunLog(event, label);

  return {
    engine,
    description: `cluster mode: Redis ${redactUrl(config.redisUrl)}, Postgres ${redactUrl(config.databaseUrl)}`,
    close: async ({ onWaiting } = {}) => {
      try {
        await engine.dispatcher.drain?.(); // detached (.delay()) task runs finish first
        await events.flush();
        const lastId = events.lastId;
        if (lastId) {
          const started = Date.now();
          let told = false;
          while (!(await isRecordedUpTo(redis, keys.eventStream, keys.recorderGroup, lastId))) {
            if (!told && Date.now() - started > 2000) {
              told = true;
              onWaiting?.();
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      } finally {
        await cancellations.close();
        await recorder.stop();
        await leases.close();
        redis.disconnect();
        await database.close();
      }
    },
  };
}

/**
 * The runs this process started, listening for their cancellation (as a worker does for the runs
 * it holds): an announcement aborts the run's signal. After a reconnection, announcements made
 * meanwhile were missed: each run's marker is asked for instead.
 */
async function watchCancellations(redis: Redis, keys: RedisKeys, graceMs: number, logger: Logger) {
  const cancellation = new FlowRunCancellation(redis, keys);
  const running = new Map<string, AbortController>();
  const cancel = (flowRunId: string) => {
    const controller = running.get(flowRunId);
    if (!controller || controller.signal.aborted) return;
    logger.info({ flowRunId }, "cancelling flow run");
    controller.abort(new CancelledError("Flow run was cancelled"));
  };
  const subscription = await cancellation.subscribe(cancel, () => {
    for (const flowRunId of running.keys()) {
      cancellation.isCancelled(flowRunId).then(
        (cancelled) => cancelled && cancel(flowRunId),
        (error: unknown) => logger.debug({ err: error, flowRunId }, "could not ask whether the run was cancelled"),
      );
    }
  });
  const watch = (flowRunId: string): CancellationWatch => {
    const controller = new AbortController();
    running.set(flowRunId, controller);
    return { signal: controller.signal, graceMs, stop: () => running.delete(flowRunId) };
  };
  return { watch, close: () => subscription.close() };
}
