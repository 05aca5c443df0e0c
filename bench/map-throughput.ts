/**
 * Throughput of `.map()` over N no-op task runs spread over two worker processes, with every task
 * run's state history written to Postgres, beside raw BullMQ doing N no-op jobs with two worker
 * processes on the same Redis, in the same run. Also the workers' peak RSS.
 *
 *   npm run bench:map -- [count=20000]
 */
import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { benchCluster, ROOT, waitUntil } from "./cluster.js";

const count = Number(process.argv[2] ?? 20_000);
const cluster = await benchCluster();
const { client, prefix } = cluster;
const tsx = `${ROOT}node_modules/.bin/tsx`;
const peakRssMb = (pid: number | undefined) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
};

const redis = new Redis(cluster.redisUrl, { maxRetriesPerRequest: null });
const pool = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
try {
  // Raw BullMQ: N no-op jobs, two worker processes.
  const rawQueue = new Queue("raw", { connection: redis, prefix });
  const rawWorkers = [1, 2].map(() => cluster.start(tsx, ["bench/raw-bullmq-worker.ts", "raw", prefix, "50"]));
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const rawStarted = performance.now();
  for (let i = 0; i < count; i += 1000) {
    await rawQueue.addBulk(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({
        name: "noop",
        data: { n: i + j },
        opts: { removeOnComplete: true },
      })),
    );
  }
  await waitUntil(async () => {
    const counts = await rawQueue.getJobCounts("waiting", "active", "delayed");
    return counts.waiting + counts.active + counts.delayed === 0;
  }, "raw BullMQ");
  const rawSeconds = (performance.now() - rawStarted) / 1000;
  for (const worker of rawWorkers) worker.kill("SIGTERM");
  await rawQueue.close();

  // Sluice: one flow run mapping N no-op task runs over two workers; full history in Postgres.
  cluster.sluice(["server", "start"]);
  await waitUntil(() => client.health(), "the API", 60_000);
  const workers = [1, 2].map((i) =>
    cluster.sluice([
      "worker",
      "start",
      "--pool",
      "bench-pool",
      "--flows",
      "bench/flows",
      "--name",
      `w${i}`,
      "--task-limit",
      "50",
    ]),
  );
  await cluster.deploy("bench/flows/deploy.ts");
  await waitUntil(async () => (await client.filterWorkers("bench-pool")).length === 2, "the workers", 60_000);
  const deployment = await client.readDeploymentByName("Noop Map", "noop-map");
  const started = performance.now();
  const run = await client.createFlowRunFromDeployment(deployment.id, { parameters: { count } });
  await waitUntil(async () => (await client.readFlowRun(run.id)).state_type === "COMPLETED", "the flow run");
  const flowSeconds = (performance.now() - started) / 1000;
  await waitUntil(async () => {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND state_name = 'Completed'",
      [run.id],
    );
    return rows[0].n === count;
  }, "every task run recorded");
  const recordedSeconds = (performance.now() - started) / 1000;
  const rss = workers.map((worker) => peakRssMb(worker.pid));

  const rate = (seconds: number) => Math.round(count / seconds);
  process.stdout.write(`${count} no-op task runs, two worker processes, this machine:\n`);
  process.stdout.write(
    `  raw BullMQ jobs:                         ${rate(rawSeconds)} /s (${rawSeconds.toFixed(2)} s)\n`,
  );
  process.stdout.write(
    `  sluice .map(), results back in the flow: ${rate(flowSeconds)} /s (${flowSeconds.toFixed(2)} s)\n`,
  );
  process.stdout.write(
    `  sluice, full state history in Postgres:  ${rate(recordedSeconds)} /s (${recordedSeconds.toFixed(2)} s)\n`,
  );
  process.stdout.write(`  worker peak RSS: ${rss.join(" MB, ")} MB\n`);
} finally {
  await pool.end();
  redis.disconnect();
  await cluster.cleanUp();
}
