/**
 * Latency from `POST /api/deployments/{id}/create_flow_run` to the run being Running and
 * Completed, for a no-op flow, with a real server and worker process on this machine.
 *
 *   npm run bench:latency -- [runs=100] [perSecond=20]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { SluiceClient } from "@sluice/client";
import { dropDatabase } from "@sluice/db";
import { Redis } from "ioredis";
import pg from "pg";

const runs = Number(process.argv[2] ?? 100);
const perSecond = Number(process.argv[3] ?? 20);
const root = fileURLToPath(new URL("..", import.meta.url));
const bin = fileURLToPath(new URL("../services/cli/bin/sluice.js", import.meta.url));
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
const start = (args: string[]) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  return child;
};
const client = new SluiceClient({ apiUrl: env.SLUICE_API_URL });
const waitUntil = async (check: () => Promise<boolean>, what: string) => {
  const deadline = Date.now() + 60_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
try {
  start(["server", "start"]);
  await waitUntil(() => client.health(), "the API");
  start(["worker", "start", "--pool", "bench-pool", "--flows", "bench/flows", "--limit", "50"]);
  await new Promise<void>((resolve, reject) => {
    const deploy = start(["deploy", "bench/flows/deploy.ts"]);
    deploy.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`deploy exited ${code}`))));
  });
  const deployment = await client.readDeploymentByName("Noop", "noop");
  await waitUntil(async () => (await client.filterWorkers("bench-pool")).length > 0, "the worker");
  // Warm up: the first run loads the flow's module in the worker.
  const warm = await client.createFlowRunFromDeployment(deployment.id);
  await waitUntil(async () => (await client.readFlowRun(warm.id)).state_type === "COMPLETED", "the warm-up run");

  const sent = new Map<string, number>();
  const gapMs = 1000 / perSecond;
  const began = performance.now();
  const requests: Promise<void>[] = [];
  for (let i = 0; i < runs; i++) {
    const due = began + i * gapMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const at = Date.now();
    requests.push(client.createFlowRunFromDeployment(deployment.id).then((run) => void sent.set(run.id, at)));
  }
  await Promise.all(requests);
  const ids = [...sent.keys()];
  await waitUntil(async () => {
    const { rows } = await pool.query(
      "SELECT count(*)::int AS n FROM flow_runs WHERE id = ANY($1) AND state_type = 'COMPLETED'",
      [ids],
    );
    return rows[0].n === runs;
  }, "every run Completed");
  const { rows } = await pool.query<{ flow_run_id: string; name: string; ts: Date }>(
    "SELECT flow_run_id, name, timestamp AS ts FROM flow_run_states WHERE flow_run_id = ANY($1) AND name IN ('Running', 'Completed')",
    [ids],
  );
  const toRunning: number[] = [];
  const toCompleted: number[] = [];
  for (const row of rows) {
    const latency = row.ts.getTime() - (sent.get(row.flow_run_id) as number);
    (row.name === "Running" ? toRunning : toCompleted).push(latency);
  }
  const line = (label: string, values: number[]) =>
    `${label}: p50 ${percentile(values, 50)} ms, p95 ${percentile(values, 95)} ms, p99 ${percentile(values, 99)} ms`;
  process.stdout.write(`${runs} runs at ${perSecond}/s through create_flow_run (server + 1 worker, this machine)\n`);
  process.stdout.write(`${line("to Running  ", toRunning)}\n${line("to Completed", toCompleted)}\n`);
} finally {
  for (const child of children) child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await pool.end();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await dropDatabase(databaseUrl);
}
