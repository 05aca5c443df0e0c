/**
 * The server's Prometheus metrics (`GET /metrics`): the cluster as Redis and Postgres see it, read
 * at scrape time: queue depth and oldest waiting job per pool and queue, concurrency slots in use
 * per limit, workers online per pool, the recorders' lag behind the event stream, plus this
 * process's own (event-loop lag, memory, CPU). Runs and their durations are counted where they
 * run: on the workers' `/metrics` (`worker start --metrics-port`).
 */
import { type AnySluiceDb, eq, listWorkPools, workers, workPools } from "@sluice/db";
import { QueueStatsReader, readEventStreamLag, readLeaseUsage, redisKeys, registerQueueMetrics } from "@sluice/queue";
import { createServiceMetrics, type Logger, type ServiceMetrics } from "@sluice/telemetry";
import type { Redis } from "ioredis";
import { isWorkerOnline } from "./serializers.js";

/** The default pool is always reported, even before anyone created it. */
const DEFAULT_POOL = "default-agent-pool";

export interface ApiMetrics {
  metrics: ServiceMetrics;
  close(): Promise<void>;
}

export async function createApiMetrics(options: {
  db: AnySluiceDb;
  redis: Redis;
  prefix: string;
  logger: Logger;
}): Promise<ApiMetrics> {
  const { db, redis, logger } = options;
  const keys = redisKeys(options.prefix);
  const metrics = await createServiceMetrics({
    onCollectError: (metric, error) => logger.warn({ err: error, metric }, "could not collect a metric"),
  });
  const queues = new QueueStatsReader(redis, options.prefix);
  const pools = metrics.perScrape(async () => {
    const names = (await listWorkPools(db, { limit: 1000 })).map((pool) => pool.name);
    return names.includes(DEFAULT_POOL) ? names : [DEFAULT_POOL, ...names];
  });
  registerQueueMetrics(metrics, queues, pools);

  metrics.gauge("sluice_workers_online", "Workers whose heartbeat is recent, by work pool", ["pool"], async () => {
    const now = new Date();
    const rows = await db
      .select({ pool: workPools.name, worker: workers })
      .from(workers)
      .innerJoin(workPools, eq(workPools.id, workers.workPoolId));
    const online = new Map<string, number>((await pools()).map((pool) => [pool, 0]));
    for (const { pool, worker } of rows) {
      online.set(pool, (online.get(pool) ?? 0) + (isWorkerOnline(worker, now) ? 1 : 0));
    }
    return [...online].map(([pool, value]) => ({ labels: { pool }, value }));
  });

  const leases = metrics.perScrape(() => readLeaseUsage(redis, keys));
  metrics.gauge(
    "sluice_concurrency_slots_in_use",
    "Concurrency slots held (unexpired leases), by limit: tag:NAME, task:NAME, deployment:ID",
    ["limit"],
    async () => [...(await leases()).inUse].map(([limit, value]) => ({ labels: { limit }, value })),
  );
  metrics.gauge(
    "sluice_concurrency_slots",
    "Size of the tag concurrency limits (concurrency-limit create TAG N), by limit",
    ["limit"],
    async () => [...(await leases()).limits].map(([limit, value]) => ({ labels: { limit }, value })),
  );

  const lag = metrics.perScrape(() => readEventStreamLag(redis, keys.eventStream, keys.recorderGroup));
  metrics.gauge(
    "sluice_recorder_pending_events",
    "Run events on the stream not yet recorded in Postgres (pending or not yet delivered)",
    [],
    async () => [{ value: (await lag()).pendingEvents }],
  );
  metrics.gauge(
    "sluice_recorder_oldest_unacked_event_age_seconds",
    "Age of the oldest run event not yet recorded in Postgres (0 when the recorders are caught up)",
    [],
    async () => [{ value: (await lag()).oldestUnackedSeconds }],
  );

  return {
    metrics,
    close: async () => {
      metrics.close();
      await queues.close();
    },
  };
}
