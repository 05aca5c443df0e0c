/**
 * A worker's Prometheus metrics (`worker start --metrics-port N`): the runs it finished by final
 * state with their durations, how long its jobs waited in the queue, its slots in use against its
 * limits, its pool's queue depth (read at scrape time), and its process (event-loop lag, memory).
 */
import { QueueStatsReader, registerQueueMetrics } from "@sluice/queue";
import { createServiceMetrics, jobsInProgress, type Logger, startMetricsServer } from "@sluice/telemetry";
import type { Redis } from "ioredis";

export interface WorkerMetricsOptions {
  port: number;
  host?: string;
  connection: Redis;
  prefix: string;
  workPoolName: string;
  /** `--limit` and `--task-limit`. */
  flowRunLimit: number;
  taskRunLimit: number;
  logger: Logger;
}

export async function startWorkerMetrics(
  options: WorkerMetricsOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  const metrics = await createServiceMetrics({
    onCollectError: (metric, error) => options.logger.warn({ err: error, metric }, "could not collect a metric"),
  });
  metrics.countRuns();
  const pool = options.workPoolName;
  metrics.gauge(
    "sluice_worker_slots_in_use",
    "Runs this worker is running now, by queue (its --limit and --task-limit slots in use)",
    ["pool", "queue"],
    () => [
      { labels: { pool, queue: "flow-runs" }, value: jobsInProgress["flow-runs"] },
      { labels: { pool, queue: "task-runs" }, value: jobsInProgress["task-runs"] },
    ],
  );
  metrics.gauge("sluice_worker_slots", "Most runs at once in this worker, by queue", ["pool", "queue"], () => [
    { labels: { pool, queue: "flow-runs" }, value: options.flowRunLimit },
    { labels: { pool, queue: "task-runs" }, value: options.taskRunLimit },
  ]);
  const queues = new QueueStatsReader(options.connection, options.prefix);
  registerQueueMetrics(metrics, queues, async () => [pool]);
  const server = await startMetricsServer(metrics, { port: options.port, host: options.host });
  return {
    port: server.port,
    close: async () => {
      await server.close();
      metrics.close();
      await queues.close();
    },
  };
}
