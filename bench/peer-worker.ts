/**
 * A worker process of a peer system (raw BullMQ, graphile-worker or pg-boss), forked by
 * bench/peers.ts with its settings as JSON in argv[2]. It runs the bench's three job kinds from
 * one queue and reports to its parent over IPC:
 *
 * - `noop` (W2): nothing; the count done so far and the time of the last one, every 50 ms;
 * - `latency` (W3): the time the job started;
 * - `chain` (W1): sleeps, then enqueues the chain's next step; the last step reports the time.
 *
 * Times are wall-clock milliseconds with sub-millisecond precision (timeOrigin + now()).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { PeerSettings } from "./peers.js";
import type { Peer } from "./results.js";

export type JobData =
  | { kind: "noop" }
  | { kind: "latency"; seq: number }
  | { kind: "chain"; chain: number; step: number; length: number };

export type WorkerMessage =
  | { type: "ready" }
  | { type: "count"; n: number; lastAt: number }
  | { type: "started"; seq: number; at: number }
  | { type: "chain-done"; chain: number; at: number }
  | { type: "error"; message: string };

export interface PeerWorkerConfig {
  system: Peer;
  settings: PeerSettings;
  redisUrl: string;
  prefix: string;
  databaseUrl: string;
  queue: string;
  chainTaskMs: number;
}

const config = JSON.parse(process.argv[2] ?? "{}") as PeerWorkerConfig;
const now = () => performance.timeOrigin + performance.now();
const send = (message: WorkerMessage) => process.send?.(message);

let count = 0;
let lastAt = 0;
let reported = 0;
const reporter = setInterval(() => {
  if (count === reported) return;
  reported = count;
  send({ type: "count", n: count, lastAt });
}, 50);

async function handle(data: JobData, enqueue: (next: JobData) => Promise<unknown>): Promise<void> {
  switch (data.kind) {
    case "noop":
      count++;
      lastAt = now();
      return;
    case "latency":
      send({ type: "started", seq: data.seq, at: now() });
      return;
    case "chain":
      await sleep(config.chainTaskMs);
      if (data.step < data.length) await enqueue({ ...data, step: data.step + 1 });
      else send({ type: "chain-done", chain: data.chain, at: now() });
      return;
  }
}

/** Starts the system's workers (loading only its library); resolves to a function that stops them. */
async function start(): Promise<() => Promise<void>> {
  const { settings } = config;
  switch (config.system) {
    case "bullmq": {
      const { Queue, Worker } = await import("bullmq");
      const { Redis } = await import("ioredis");
      const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
      const queue = new Queue(config.queue, { connection, prefix: config.prefix });
      const worker = new Worker(
        config.queue,
        (job) => handle(job.data as JobData, (next) => queue.add(next.kind, next, { removeOnComplete: true })),
        { connection, prefix: config.prefix, concurrency: settings.concurrency },
      );
      worker.on("error", (error) => send({ type: "error", message: String(error) }));
      await worker.waitUntilReady();
      return async () => {
        await worker.close();
        await queue.close();
        connection.disconnect();
      };
    }
    case "graphile-worker": {
      const { Logger, run } = await import("graphile-worker");
      const runner = await run({
        noHandleSignals: true,
        logger: new Logger(() => () => {}),
        taskList: {
          bench: (payload, helpers) => handle(payload as JobData, (next) => helpers.addJob("bench", next)),
        },
        preset: {
          worker: {
            connectionString: config.databaseUrl,
            concurrentJobs: settings.concurrency,
            maxPoolSize: settings.maxPoolSize,
            localQueue: { size: settings.localQueueSize ?? -1 },
            completeJobBatchDelay: settings.completeJobBatchDelay,
            failJobBatchDelay: settings.completeJobBatchDelay,
          },
        },
      });
      return () => runner.stop();
    }
    case "pg-boss": {
      const { default: PgBoss } = await import("pg-boss");
      const boss = new PgBoss({ connectionString: config.databaseUrl, max: settings.maxPoolSize });
      boss.on("error", (error) => send({ type: "error", message: String(error) }));
      await boss.start();
      for (let i = 0; i < settings.concurrency; i++) {
        await boss.work<JobData>(
          config.queue,
          { batchSize: settings.batchSize, pollingIntervalSeconds: settings.pollingIntervalSeconds },
          async (jobs) => {
            await Promise.all(jobs.map((job) => handle(job.data, (next) => boss.send(config.queue, next))));
          },
        );
      }
      return () => boss.stop({ graceful: true, wait: true, timeout: 5000 });
    }
  }
}

const stop = await start();
send({ type: "ready" });
process.on("message", async (message: { type?: string }) => {
  if (message?.type !== "stop") return;
  clearInterval(reporter);
  await stop().catch(() => {});
  process.exit(0);
});
process.on("disconnect", () => process.exit(0));
