/**
 * `sluice server start`: the API on SLUICE_HOST:SLUICE_PORT, the scheduler and the recorder in one
 * process (`--services` to run a subset, e.g. several recorders). Creates and migrates the
 * database on start. SIGTERM/SIGINT stop it cleanly.
 */
import { hostname } from "node:os";
import { buildApi } from "@sluice/api";
import { startOrStop } from "@sluice/core";
import { createDatabase, migrateDatabase } from "@sluice/db";
import { redisKeys } from "@sluice/queue";
import { Recorder } from "@sluice/recorder";
import { Scheduler } from "@sluice/scheduler";
import { type Logger, startTelemetry } from "@sluice/telemetry";
import { Redis } from "ioredis";
import { type CliConfig, redactUrl } from "../config.js";
import { limitHeapGrowth } from "../heap-growth.js";

const SERVICES = ["api", "scheduler", "recorder"] as const;
type Service = (typeof SERVICES)[number];

export async function serverStartCommand(
  options: { services: string },
  config: CliConfig,
  logger: Logger,
): Promise<number> {
  const wanted = options.services
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !SERVICES.includes(s as Service));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`--services takes a comma-separated subset of ${SERVICES.join(",")}; got '${options.services}'`);
  }
  const services = new Set(wanted as Service[]);
  limitHeapGrowth(config.heapGrowingPercent);
  // Traces (when OTEL_* configure an exporter) of the API's requests and what they enqueue.
  const telemetry = await startTelemetry({ serviceName: "sluice-api" });

  process.stdout.write(`Preparing the database ${redactUrl(config.databaseUrl)}…\n`);
  await migrateDatabase(config.databaseUrl);
  const database = createDatabase(config.databaseUrl, { applicationName: "sluice-server", max: 20 });
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  const keys = redisKeys(config.redisPrefix);
  const stops: (() => Promise<void>)[] = [];
  /** What started, stopped (the API first): on SIGTERM, or when starting fails (its connections would keep the process alive). */
  const stopAll = async () => {
    for (const stop of stops) await stop().catch((error) => logger.error({ err: error }, "error while stopping"));
    redis.disconnect();
    await database.close();
    await telemetry.shutdown();
  };

  await startOrStop(async () => {
    if (services.has("recorder")) {
      const recorder = new Recorder({
        redis,
        db: database,
        keys,
        consumerName: `server-${hostname()}-${process.pid}`,
        logger,
      });
      await recorder.start();
      stops.push(() => recorder.stop());
    }
    if (services.has("scheduler")) {
      const scheduler = new Scheduler({ database, redis, prefix: config.redisPrefix, logger });
      scheduler.start();
      stops.push(() => scheduler.stop());
    }
    if (services.has("api")) {
      const app = buildApi({
        db: database,
        redis,
        prefix: config.redisPrefix,
        apiKey: config.apiKey,
        logger,
        traceUiUrl: config.traceUiUrl,
      });
      stops.unshift(() => app.close()); // stop taking requests first; closed too when listening fails
      const address = await app.listen({ host: config.host, port: config.port });
      process.stdout.write(`Sluice API listening on ${address} (UI at /, REST at /api, OpenAPI docs at /docs)\n`);
    }
  }, stopAll);
  process.stdout.write(`Sluice server running: ${[...services].join(", ")}. Ctrl-C stops it.\n`);

  await new Promise<void>((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
  process.stdout.write("Stopping…\n");
  await stopAll();
  return 0;
}
