/**
 * Throughput of `.map()` over N no-op task runs spread over two worker processes, with every task
 * run's state history written to Postgres, beside raw BullMQ doing N no-op jobs with two worker
 * processes on the same Redis, in the same run. Also the workers' peak RSS.
 *
 *   npm run bench:map -- [count=20000]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { SluiceClient } from "@sluice/client";
import { dropDatabase } from "@sluice/db";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";

const count = Number(process.argv[2] ?? 20_000);
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = fileURLToPath(new URL("../services/cli/bin/sluice.js", import.meta.url));
const tsx = fileURLToPath(new URL("../node_modules/.bin/tsx", import.meta.url));
const redisUrl = process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379";
const serverUrl = process.env.SLUICE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/sluice";
const suffix = randomUUID().slice(0, 8);
const databaseUrl = serverUrl.replace(/\/[^/?]*(\?|$)/, `/sluice_bench_${suffix}$1`);
const prefix = `bench_${suffix}`;
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const address = probe.address();
    probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
  });
});
const env = {
  ...process.env,
  SLUICE_DATABASE_URL: databaseUrl,
  SLUICE_REDIS_URL: redisUrl,
  SLUICE_REDIS_PREFIX: prefix,
  SLUICE_PORT: String(port),
  SLUICE_HOST: "127.0.0.1",
  SLUICE_API_URL: `http://127.0.0.1:${port}/api`,
  LOG_LEVEL: "error",
};
const children: ChildProcess[] = [];
const start = (command: string, args: string[]) => {
  const child = spawn(command, args, { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  return child;
};
const sluice = (args: string[]) => start(process.execPath, [bin, ...args]);
const waitUntil = async (check: () => Promise<boolean>, what: string, timeoutMs = 600_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
const peakRssMb = (pid: number | undefined) => {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN;
};

const client = new SluiceClient({ apiUrl: env.SLUICE_API_URL });
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
try {
  // Raw BullMQ: N no-op jobs, two worker processes.
  const rawQueue = new Queue("raw", { connection: redis, prefix });
  const rawWorkers = [1, 2].map(() => start(tsx, ["bench/raw-bullmq-worker.ts", "raw", prefix, "50"]));
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
  sluice(["server", "start"]);
  await waitUntil(() => client.health(), "the API", 60_000);
  const workers = [1, 2].map((i) =>
    sluice([
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
  await new Promise<void>((resolve, reject) => {
    const deploy = sluice(["deploy", "bench/flows/deploy.ts"]);
    deploy.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`deploy exited ${code}`))));
  });
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
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await pool.end();
  const keys = await redis.keys(`${prefix}:*`);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  redis.disconnect();
  await dropDatabase(databaseUrl);
}
