/**
 * The peers: raw BullMQ on the same Redis, graphile-worker and pg-boss on the same Postgres, each
 * in a throwaway prefix or database of its own, with two worker processes (bench/peer-worker.ts)
 * configured as the peer's own documentation recommends for throughput. This side enqueues jobs
 * and collects what the workers report.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { Logger, makeWorkerUtils, runMigrations, type WorkerUtils } from "graphile-worker";
import { Redis } from "ioredis";
import PgBoss from "pg-boss";
import {
  BenchError,
  createDatabase,
  databaseUrlFor,
  deleteRedisPrefix,
  dropDatabase,
  ROOT,
  services,
  stopProcess,
  throwawayName,
  waitUntil,
} from "./cluster.js";
import { now } from "./context.js";
import type { JobData, PeerWorkerConfig, WorkerMessage } from "./peer-worker.js";
import type { Peer } from "./results.js";

export interface PeerSettings {
  /** BullMQ: Worker concurrency; graphile-worker: concurrentJobs; pg-boss: work() loops per process. */
  concurrency: number;
  maxPoolSize?: number;
  localQueueSize?: number;
  completeJobBatchDelay?: number;
  batchSize?: number;
  pollingIntervalSeconds?: number;
  /** How the settings were chosen, for the results. */
  description: string;
}

const BULK = 1000;
const WORKER_PROCESSES = 2;

export const PEER_SETTINGS: Record<Peer, PeerSettings> = {
  bullmq: {
    concurrency: 100,
    description:
      "2 worker processes (docs guide/workers/concurrency: several worker processes is the recommended " +
      "set-up) × Worker concurrency 100 (same page; 50, 100 and 200 were within noise here); jobs added with " +
      "addBulk, 1,000 per call, removeOnComplete (docs: auto-removal of jobs)",
  },
  "graphile-worker": {
    concurrency: 24,
    maxPoolSize: 25,
    localQueueSize: 500,
    completeJobBatchDelay: 0,
    description:
      "2 worker processes × concurrentJobs 24, maxPoolSize 25, localQueue.size 500, completeJobBatchDelay 0, " +
      "failJobBatchDelay 0 (the configuration of worker.graphile.org/docs/performance); jobs added with " +
      "addJobs, 1,000 per call",
  },
  "pg-boss": {
    concurrency: 4,
    batchSize: 1000,
    maxPoolSize: 10,
    pollingIntervalSeconds: 0.5,
    description:
      "2 worker processes × 4 work() workers, batchSize 1000, pollingIntervalSeconds 0.5 (the minimum: pg-boss " +
      "polls; docs api/workers: batchSize and more work() calls for throughput; 4 × 1000 was the fastest of " +
      "2 × 500, 4 × 250, 8 × 250, 4 × 1000 here), pool max 10 (the default), queue policy standard; jobs " +
      "added with insert, 1,000 per call",
  },
};

/** The producer side of a peer: how the bench puts jobs on its queue. */
interface Producer {
  addMany(data: JobData, count: number): Promise<void>;
  add(data: JobData): Promise<void>;
  /** Removes what finished jobs leave behind, so a timed run starts from empty queues and tables. */
  clearFinished(): Promise<void>;
  close(): Promise<void>;
}

const QUEUE = "bench";

async function startProducer(system: Peer, redisUrl: string, prefix: string, databaseUrl: string): Promise<Producer> {
  switch (system) {
    case "bullmq": {
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const queue = new Queue(QUEUE, { connection, prefix });
      const opts = { removeOnComplete: true };
      return {
        addMany: async (data, count) => {
          for (let i = 0; i < count; i += BULK) {
            await queue.addBulk(
              Array.from({ length: Math.min(BULK, count - i) }, () => ({ name: data.kind, data, opts })),
            );
          }
        },
        add: async (data) => void (await queue.add(data.kind, data, opts)),
        // removeOnComplete: finished jobs leave nothing.
        clearFinished: async () => {},
        close: async () => {
          await queue.close();
          connection.disconnect();
        },
      };
    }
    case "graphile-worker": {
      const logger = new Logger(() => () => {});
      await runMigrations({ connectionString: databaseUrl, logger });
      const utils: WorkerUtils = await makeWorkerUtils({ connectionString: databaseUrl, logger, maxPoolSize: 2 });
      return {
        addMany: async (data, count) => {
          for (let i = 0; i < count; i += BULK) {
            await utils.addJobs(
              Array.from({ length: Math.min(BULK, count - i) }, () => ({ identifier: QUEUE, payload: data })),
            );
          }
        },
        add: async (data) => void (await utils.addJob(QUEUE, data)),
        // graphile-worker deletes a job once it succeeds.
        clearFinished: async () => {},
        close: async () => {
          await utils.release();
        },
      };
    }
    case "pg-boss": {
      const boss = new PgBoss({ connectionString: databaseUrl, max: 2 });
      boss.on("error", () => {});
      await boss.start();
      await boss.createQueue(QUEUE);
      return {
        addMany: async (data, count) => {
          for (let i = 0; i < count; i += BULK) {
            await boss.insert(Array.from({ length: Math.min(BULK, count - i) }, () => ({ name: QUEUE, data })));
          }
        },
        add: async (data) => void (await boss.send(QUEUE, data)),
        // pg-boss keeps completed jobs in its job table (archived later): a second run would find them there.
        clearFinished: () => boss.clearStorage(),
        close: () => boss.stop({ graceful: false, wait: true, timeout: 5000 }),
      };
    }
  }
}

export type PeerRun = Awaited<ReturnType<typeof startPeer>>;

/** Sets up a peer in a throwaway prefix/database, starts its two worker processes, and returns its handle. */
export async function startPeer(system: Peer, chainTaskMs: number, onStderr: (line: string) => void) {
  const settings = PEER_SETTINGS[system];
  const prefix = throwawayName(system.replace("-", "_"));
  const databaseUrl = databaseUrlFor(prefix);
  const usesPostgres = system !== "bullmq";
  if (usesPostgres) await createDatabase(databaseUrl);

  const children: ChildProcess[] = [];
  const counts: number[] = [];
  const lastAts: number[] = [];
  const started = new Map<number, number>();
  const chainsDone = new Map<number, number>();
  let closing = false;
  let failure: Error | undefined;
  let producer: Producer | undefined;

  const close = async () => {
    closing = true;
    await Promise.all(
      children.map(async (child) => {
        if (child.connected) child.send({ type: "stop" });
        await Promise.race([
          new Promise((resolve) => child.once("exit", resolve)),
          new Promise((resolve) => setTimeout(resolve, 10_000)),
        ]);
        await stopProcess(child, 2000);
      }),
    );
    await producer?.close().catch(() => {});
    if (usesPostgres) await dropDatabase(databaseUrl);
    else await deleteRedisPrefix(services.redisUrl, prefix);
  };

  try {
    producer = await startProducer(system, services.redisUrl, prefix, databaseUrl);
    const config: PeerWorkerConfig = {
      system,
      settings,
      redisUrl: services.redisUrl,
      prefix,
      databaseUrl,
      queue: QUEUE,
      chainTaskMs,
    };
    let ready = 0;
    for (let i = 0; i < WORKER_PROCESSES; i++) {
      const child = fork(fileURLToPath(new URL("./peer-worker.ts", import.meta.url)), [JSON.stringify(config)], {
        cwd: ROOT,
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      });
      children.push(child);
      counts.push(0);
      lastAts.push(0);
      child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) if (line.trim()) onStderr(`[${system} worker ${i + 1}] ${line}`);
      });
      child.on("exit", (code, signal) => {
        if (!closing) failure ??= new BenchError(`${system} worker ${i + 1} exited (${signal ?? `code ${code}`})`);
      });
      child.on("message", (message: WorkerMessage) => {
        switch (message.type) {
          case "ready":
            ready++;
            break;
          case "count":
            counts[i] = message.n;
            lastAts[i] = message.lastAt;
            break;
          case "started":
            started.set(message.seq, message.at);
            break;
          case "chain-done":
            chainsDone.set(message.chain, message.at);
            break;
          case "error":
            onStderr(`[${system} worker ${i + 1}] ${message.message}`);
            break;
        }
      });
    }
    const alive = () => {
      if (failure) throw failure;
    };
    await waitUntil(() => ready === WORKER_PROCESSES, `${system} workers to be ready`, { timeoutMs: 120_000, alive });
    const jobs = producer;
    return {
      system,
      settings,
      pids: () => children.map((child) => child.pid),
      alive,
      /** Jobs done so far by both workers. */
      noopsDone: () => counts.reduce((sum, n) => sum + n, 0),
      /** When the last no-op job ran. */
      lastNoopAt: () => Math.max(...lastAts),
      addNoops: (count: number) => jobs.addMany({ kind: "noop" }, count),
      clearFinished: () => jobs.clearFinished(),
      /** Enqueues latency job `seq`; resolves to when it was sent. */
      addLatencyJob: async (seq: number) => {
        const at = now();
        await jobs.add({ kind: "latency", seq });
        return at;
      },
      startedAt: (seq: number) => started.get(seq),
      /** Starts chain `chain` of `length` steps; resolves to when it was sent. */
      startChain: async (chain: number, length: number) => {
        const at = now();
        await jobs.add({ kind: "chain", chain, step: 1, length });
        return at;
      },
      chainDoneAt: (chain: number) => chainsDone.get(chain),
      close,
    };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
