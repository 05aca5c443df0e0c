/** Starts `sluice server start` and `sluice worker start` as real processes on a test's own database, prefix and port. */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { SluiceClient } from "@sluice/client";
import { createTestContext, spawnSluice, type TestContext, waitFor as waitUntil } from "@sluice/testing";
import pg from "pg";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface SluiceProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startSluice(args: string[], env: Record<string, string>): SluiceProcess {
  const command = spawnSluice(args, { env: { ...process.env, LOG_LEVEL: "warn", ...env } });
  const { child, exited } = command;
  return {
    child,
    output: () => command.output().both,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** As @sluice/testing's, looking every 100 ms, and a check that throws (a process still starting) is "not yet". */
export function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  return waitUntil(what, check, timeoutMs, { everyMs: 100, ignoreErrors: true });
}

export function clusterEnvFor(ctx: TestContext, port: number): Record<string, string> {
  return {
    SLUICE_DATABASE_URL: ctx.databaseUrl,
    SLUICE_REDIS_URL: ctx.redisUrl,
    SLUICE_REDIS_PREFIX: ctx.prefix,
    SLUICE_PORT: String(port),
    SLUICE_HOST: "127.0.0.1",
    SLUICE_API_URL: `http://127.0.0.1:${port}/api`,
    // Crash tests want a killed worker found fast (~15 s), not at the 45 s of the default lock.
    SLUICE_WORKER_LOCK_SECONDS: "10",
  };
}

/**
 * A test's own cluster: database, Redis prefix and API port of its own, `sluice server start`
 * running, a client and a pool on its database; `close()` kills every process it started and
 * removes everything.
 */
export interface TestCluster {
  ctx: TestContext;
  env: Record<string, string>;
  client: SluiceClient;
  pool: pg.Pool;
  /** Starts a `sluice` process on this cluster, stopped by close(). */
  sluice(args: string[], extraEnv?: Record<string, string>): SluiceProcess;
  /** Starts a worker (of the default pool unless `pool` is given). */
  worker(name: string, options?: WorkerOptions): SluiceProcess;
  close(): Promise<void>;
}

export interface WorkerOptions {
  /** Work pool (default: default-agent-pool). */
  pool?: string;
  flows?: string;
  limit?: number;
  taskLimit?: number;
  env?: Record<string, string>;
}

export async function startTestCluster(
  serverArgs: string[] = ["server", "start"],
  serverEnv: Record<string, string> = {},
): Promise<TestCluster> {
  const ctx = await createTestContext();
  const env = clusterEnvFor(ctx, await freePort());
  const client = new SluiceClient({ apiUrl: env.SLUICE_API_URL as string });
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  pool.on("error", () => {}); // an idle client cut by the database drop at teardown is not a failure
  const processes: SluiceProcess[] = [];
  const sluice = (args: string[], extraEnv: Record<string, string> = {}) => {
    const started = startSluice(args, { ...env, ...extraEnv });
    processes.push(started);
    return started;
  };
  sluice(serverArgs, serverEnv);
  await waitFor("the API", () => client.health());
  return {
    ctx,
    env,
    client,
    pool,
    sluice,
    worker: (name, options = {}) =>
      sluice(
        [
          "worker",
          "start",
          "--pool",
          options.pool ?? "default-agent-pool",
          "--flows",
          options.flows ?? "examples/flows",
          "--name",
          name,
          ...(options.limit === undefined ? [] : ["--limit", String(options.limit)]),
          ...(options.taskLimit === undefined ? [] : ["--task-limit", String(options.taskLimit)]),
        ],
        options.env,
      ),
    close: async () => {
      await Promise.all(processes.splice(0).map((p) => p.stop("SIGKILL")));
      await pool.end();
      await ctx.close();
    },
  };
}
