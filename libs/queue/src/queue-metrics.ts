/**
 * Gauges of the work pools' queues, read at scrape time: jobs by state per pool and queue, and how
 * long the oldest waiting job has been ready (`sluice_queue_jobs`,
 * `sluice_queue_oldest_waiting_job_age_seconds`). Used by the API's and the workers' `/metrics`.
 */

import type { ServiceMetrics } from "@sluice/telemetry";
import type { JobType } from "bullmq";
import type { Redis } from "ioredis";
import { QueuesByName } from "./bullmq-connection.js";
import { flowRunQueueName } from "./flow-run-queue.js";
import { taskRunQueueName } from "./task-run-queue.js";

const QUEUE_KINDS = [
  ["flow-runs", flowRunQueueName],
  ["task-runs", taskRunQueueName],
] as const;

/** BullMQ's job states reported, under the names the gauge uses. */
const STATES: Record<string, "waiting" | "active" | "delayed" | "failed"> = {
  waiting: "waiting",
  prioritized: "waiting",
  active: "active",
  delayed: "delayed",
  failed: "failed",
};

export interface QueueStats {
  pool: string;
  queue: "flow-runs" | "task-runs";
  counts: Record<"waiting" | "active" | "delayed" | "failed", number>;
  /** Seconds since the oldest waiting job became ready (null when none waits). */
  oldestWaitingSeconds: number | null;
}

/** Reads the stats of every queue of the given pools (queues are opened once, closed by `close()`). */
export class QueueStatsReader {
  private readonly queues: QueuesByName;

  constructor(connection: Redis, prefix: string) {
    this.queues = new QueuesByName(connection, prefix);
  }

  async read(pools: readonly string[], now = Date.now()): Promise<QueueStats[]> {
    const reads = pools.flatMap((pool) =>
      QUEUE_KINDS.map(async ([kind, nameOf]): Promise<QueueStats> => {
        const queue = this.queues.get(nameOf(pool));
        const [raw, oldest] = await Promise.all([
          queue.getJobCounts(...(Object.keys(STATES) as JobType[])),
          queue.getJobs(["wait"], 0, 0, true),
        ]);
        const counts = { waiting: 0, active: 0, delayed: 0, failed: 0 };
        for (const [state, name] of Object.entries(STATES)) counts[name] += raw[state] ?? 0;
        const job = oldest[0];
        const readyAt = job ? job.timestamp + (job.delay ?? 0) : null;
        return {
          pool,
          queue: kind,
          counts,
          oldestWaitingSeconds: readyAt === null ? null : Math.max(0, now - readyAt) / 1000,
        };
      }),
    );
    return Promise.all(reads);
  }

  close(): Promise<void> {
    return this.queues.close();
  }
}

/** Registers the queue gauges of the pools `pools()` names, read once per scrape. */
export function registerQueueMetrics(
  metrics: ServiceMetrics,
  reader: QueueStatsReader,
  pools: () => Promise<readonly string[]>,
): void {
  const read = metrics.perScrape(async () => reader.read(await pools()));
  metrics.gauge(
    "sluice_queue_jobs",
    "Jobs in a work pool's queue by state (waiting, active, delayed, failed)",
    ["pool", "queue", "state"],
    async () =>
      (await read()).flatMap((stats) =>
        Object.entries(stats.counts).map(([state, value]) => ({
          labels: { pool: stats.pool, queue: stats.queue, state },
          value,
        })),
      ),
  );
  metrics.gauge(
    "sluice_queue_oldest_waiting_job_age_seconds",
    "How long the oldest waiting job of a queue has been ready to run (0 when none waits)",
    ["pool", "queue"],
    async () =>
      (await read()).map((stats) => ({
        labels: { pool: stats.pool, queue: stats.queue },
        value: stats.oldestWaitingSeconds ?? 0,
      })),
  );
}
