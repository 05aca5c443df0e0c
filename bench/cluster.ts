/**
 * A throwaway Sluice cluster for benchmarks: its own database and Redis prefix on the local
 * Redis/Postgres, a free API port, `sluice server start` and two `sluice worker start` processes
 * with the bench deployments registered, and a clean-up that stops them and removes everything.
 * Without tracing (no OTEL_* variable reaches its processes), or with tracing on (tracing.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { type ApiDeployment, SluiceClient } from "@sluice/client";
import { dropDatabase } from "@sluice/db";
import { Redis } from "ioredis";
import pg from "pg";
import { parse as parseYaml } from "yaml";
import type { OtlpReceiver } from "./otlp-receiver.js";
import { tracingOn } from "./results.js";
import { tracingEnv, withoutOtel } from "./tracing.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = fileURLToPath(new URL("../services/cli/bin/sluice.js", import.meta.url));

/**
 * The Redis and Postgres every system shares (each gets a prefix or a database of its own on them):
 * SLUICE_REDIS_URL / SLUICE_DATABASE_URL or the defaults, unless bench/services.ts started
 * throwaway ones because nothing answers there.
 */
export const services = {
  redisUrl: process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379",
  postgresUrl: process.env.SLUICE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/sluice",
};

export const WORK_POOL = "bench-pool";
/** Per worker: flow runs at once (`--limit`) and submitted task runs at once (`--task-limit`). */
export const WORKER_LIMIT = 10;
export const WORKER_TASK_LIMIT = 50;

/**
 * NODE_OPTIONS as `docker compose` runs Sluice's processes: the image's (infra/Dockerfile), which
 * the workers keep, and the server's own from docker-compose.yml. Any NODE_OPTIONS of the bench's
 * own environment come after them (and so win), for experiments.
 */
export const NODE_OPTIONS = { worker: imageNodeOptions(), server: composeNodeOptions("server") };

function imageNodeOptions(): string {
  const dockerfile = readFileSync(new URL("../infra/Dockerfile", import.meta.url), "utf8");
  const match = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile);
  if (!match?.[1]) throw new Error('infra/Dockerfile has no NODE_OPTIONS="…" for the bench to run Sluice with');
  return match[1];
}

/** A service's NODE_OPTIONS in docker-compose.yml, or the image's when it sets none. */
function composeNodeOptions(service: string): string {
  const text = readFileSync(new URL("../docker-compose.yml", import.meta.url), "utf8");
  // merge: the services' environments extend the shared one (`<<: *sluice-env`).
  const compose = parseYaml(text, { merge: true }) as {
    services?: Record<string, { environment?: Record<string, unknown> }>;
  };
  const options = compose.services?.[service]?.environment?.NODE_OPTIONS;
  return typeof options === "string" ? options : imageNodeOptions();
}

export const SLUICE_SETTINGS =
  `sluice server start (api + scheduler + recorder) and 2 × sluice worker start ` +
  `--limit ${WORKER_LIMIT} --task-limit ${WORKER_TASK_LIMIT}, LOG_LEVEL=error, ` +
  `NODE_OPTIONS="${NODE_OPTIONS.server}" for the server and "${NODE_OPTIONS.worker}" for the workers ` +
  "(as docker-compose.yml and infra/Dockerfile set them)";

/** A name no other run uses: `bench_<kind>_<random>`. */
export const throwawayName = (kind: string) => `bench_${kind}_${randomUUID().slice(0, 8)}`;

/** The URL of database `name` on the shared Postgres server. */
export const databaseUrlFor = (name: string) => services.postgresUrl.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);

export async function createDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrlFor("postgres") });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
  } finally {
    await client.end();
  }
}
export { dropDatabase };

/** Deletes every Redis key under `prefix:` (SCAN, never KEYS or FLUSHDB: the Redis is shared). */
export async function deleteRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
    probe.on("error", reject);
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An error that stops a workload: `waitUntil` passes it on instead of polling again. */
export class BenchError extends Error {}

/**
 * Polls `check` every `everyMs` (a number, or a function asked after each check) until it is
 * true; throws after `timeoutMs`, when `alive` throws or when `check` throws a BenchError (other
 * errors count as "not yet").
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  what: string,
  {
    timeoutMs = 600_000,
    everyMs = 50,
    alive,
  }: { timeoutMs?: number; everyMs?: number | (() => number); alive?: () => void } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    alive?.();
    const ok = await Promise.resolve()
      .then(check)
      .catch((error: unknown) => {
        if (error instanceof BenchError) throw error;
        return false;
      });
    if (ok) return;
    if (Date.now() > deadline) throw new BenchError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(typeof everyMs === "number" ? everyMs : everyMs());
  }
}

/** Stops a child process: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export type SluiceCluster = Awaited<ReturnType<typeof startSluiceCluster>>;

/**
 * Starts the cluster and registers bench/flows/deploy.ts (entrypoints relative to the repository,
 * so the example ETL flow can be deployed beside the bench flows). `onStderr` gets the processes'
 * error output, line by line. With `tracing`, its processes trace every run and export the spans
 * to that receiver; without, any OTEL_* variable of this process is kept from them.
 */
/** Extra node flags for Sluice's processes, e.g. `SLUICE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile them (NODE_OPTIONS refuses --cpu-prof). */
const nodeArgs = process.env.SLUICE_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];

export async function startSluiceCluster(
  onStderr: (line: string) => void = (line) => console.error(line),
  onPhase: (what: string, fraction: number) => void = () => {},
  { tracing }: { tracing?: OtlpReceiver } = {},
) {
  const suffix = randomUUID().slice(0, 8);
  const databaseUrl = databaseUrlFor(`sluice_bench_${suffix}`);
  const prefix = `bench_${suffix}`;
  const port = await freePort();
  const env = {
    ...withoutOtel(process.env),
    ...(tracing ? tracingEnv(tracing.endpoint) : {}),
    SLUICE_DATABASE_URL: databaseUrl,
    SLUICE_REDIS_URL: services.redisUrl,
    SLUICE_REDIS_PREFIX: prefix,
    SLUICE_PORT: String(port),
    SLUICE_HOST: "127.0.0.1",
    SLUICE_API_URL: `http://127.0.0.1:${port}/api`,
    LOG_LEVEL: "error",
  };
  const children: ChildProcess[] = [];
  let closing = false;
  let failure: Error | undefined;
  const sluice = (name: string, args: string[], { longLived = true } = {}) => {
    const nodeOptions = args[0] === "server" ? NODE_OPTIONS.server : NODE_OPTIONS.worker;
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      cwd: ROOT,
      env: { ...env, NODE_OPTIONS: [nodeOptions, process.env.NODE_OPTIONS].filter(Boolean).join(" ") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let pending = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onStderr(`[${name}] ${line}`);
    });
    if (longLived) {
      child.on("exit", (code, signal) => {
        if (!closing)
          failure ??= new BenchError(`sluice ${name} exited (${signal ?? `code ${code}`}) during the benchmark`);
      });
    }
    return child;
  };
  const client = new SluiceClient({ apiUrl: env.SLUICE_API_URL });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  pool.on("error", () => {}); // a connection closing as the database is dropped
  const alive = () => {
    if (failure) throw failure;
  };

  const cluster = {
    apiUrl: env.SLUICE_API_URL,
    redisUrl: services.redisUrl,
    databaseUrl,
    prefix,
    client,
    /** Where its spans go, when tracing is on. */
    tracing,
    /** The variant a measurement on this cluster is recorded as: `variant`, or `variant (tracing on)`. */
    variant: (variant: string) => (tracing ? tracingOn(variant) : variant),
    /** Queries Sluice's database. */
    pool,
    server: sluice("server", ["server", "start"]),
    workers: [] as ChildProcess[],
    alive,
    waitUntil: (check: () => Promise<boolean> | boolean, what: string, timeoutMs?: number) =>
      waitUntil(check, what, { timeoutMs, alive }),
    async deployment(flowName: string, deploymentName: string): Promise<ApiDeployment> {
      return client.readDeploymentByName(flowName, deploymentName);
    },
    /** Empties the run tables (runs, states, task runs, logs, cached results) between workloads. */
    async truncateRuns(): Promise<void> {
      await pool.query("TRUNCATE flow_runs, flow_run_states, task_runs, task_run_states, logs, task_cache");
    },
    async close(): Promise<void> {
      closing = true;
      await Promise.all(children.map((child) => stopProcess(child)));
      await pool.end().catch(() => {});
      await deleteRedisPrefix(services.redisUrl, prefix);
      await dropDatabase(databaseUrl);
    },
  };
  try {
    onPhase("waiting for the API (the server creates and migrates its database)", 0);
    await cluster.waitUntil(() => client.health(), "the Sluice API", 120_000);
    onPhase("starting the workers, deploying bench/flows/deploy.ts", 0.4);
    cluster.workers = [1, 2].map((i) =>
      sluice(`worker ${i}`, [
        "worker",
        "start",
        "--pool",
        WORK_POOL,
        "--flows",
        ".",
        "--name",
        `bench-w${i}`,
        "--limit",
        String(WORKER_LIMIT),
        "--task-limit",
        String(WORKER_TASK_LIMIT),
      ]),
    );
    const deploy = sluice("deploy", ["deploy", "bench/flows/deploy.ts", "--flows-dir", "."], { longLived: false });
    const deployed = await new Promise<number | null>((resolve) => deploy.on("exit", resolve));
    if (deployed !== 0) throw new Error(`sluice deploy bench/flows/deploy.ts exited ${deployed}`);
    onPhase("waiting for both workers to register", 0.8);
    await cluster.waitUntil(
      async () => (await client.filterWorkers(WORK_POOL)).length === 2,
      "both workers to register",
      120_000,
    );
  } catch (error) {
    await cluster.close().catch(() => {});
    throw error;
  }
  return cluster;
}

/**
 * SQL for a timestamp column as epoch milliseconds with its microseconds (a float): Postgres keeps
 * the engine's state timestamps to the microsecond, which a JS Date would cut to the millisecond.
 */
export const epochMs = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** Creates a flow run of a deployment through the API (`create_flow_run`). */
export async function createFlowRun(
  cluster: SluiceCluster,
  deployment: ApiDeployment,
  parameters: Record<string, unknown> = {},
): Promise<string> {
  return (await cluster.client.createFlowRunFromDeployment(deployment.id, { parameters })).id;
}

/** Waits until these flow runs are all Completed in Postgres; throws if one ends otherwise. */
export async function waitForFlowRuns(
  cluster: SluiceCluster,
  ids: readonly string[],
  what: string,
  onProgress?: (completed: number) => void,
  everyMs = 50,
): Promise<void> {
  await waitUntil(
    async () => {
      const { rows } = await cluster.pool.query<{ state_type: string; n: number }>(
        "SELECT state_type, count(*)::int AS n FROM flow_runs WHERE id = ANY($1) GROUP BY state_type",
        [ids],
      );
      let completed = 0;
      for (const row of rows) {
        if (row.state_type === "COMPLETED") completed = row.n;
        else if (["FAILED", "CRASHED", "CANCELLED"].includes(row.state_type)) {
          const { rows: states } = await cluster.pool.query<{ id: string; name: string; message: string | null }>(
            "SELECT id, state_name AS name, state_message AS message FROM flow_runs WHERE id = ANY($1) AND state_type = $2 LIMIT 1",
            [ids, row.state_type],
          );
          const first = states[0];
          throw new BenchError(
            `${row.n} of ${ids.length} runs (${what}) ended ${row.state_type}; flow run ${first?.id}: ${first?.name}: ${first?.message}`,
          );
        }
      }
      onProgress?.(completed);
      return completed === ids.length;
    },
    what,
    { alive: cluster.alive, everyMs },
  );
}

/**
 * A plain HTTP client for open-loop load on the API: keep-alive connections, at most `sockets` of
 * them (requests beyond wait for a free one, as in any client's pool, instead of opening a
 * connection each while the server is behind). A request that fails at the network level is sent
 * once more; an HTTP error answer is not.
 */
export function apiLoadClient(apiUrl: string, sockets = 32) {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const base = new URL(apiUrl);
  const once = (path: string, body: unknown) =>
    new Promise<unknown>((resolve, reject) => {
      const data = JSON.stringify(body);
      const post = request(
        {
          host: base.hostname,
          port: base.port,
          path: `${base.pathname.replace(/\/+$/, "")}${path}`,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) reject(new BenchError(`POST ${path} answered ${status}: ${text}`));
            else resolve(JSON.parse(text) as unknown);
          });
        },
      );
      post.on("error", reject);
      post.end(data);
    });
  return {
    async post(path: string, body: unknown): Promise<unknown> {
      try {
        return await once(path, body);
      } catch (error) {
        if (error instanceof BenchError) throw error;
        return once(path, body);
      }
    },
    close: () => agent.destroy(),
  };
}
