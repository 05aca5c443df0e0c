/**
 * Redis and Postgres for tests: probes for running servers, and throwaway servers started from the
 * installed binaries on free ports in a temp dir (also used by fault tests that kill or restart them).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";

export const DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379";
export const DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";

/** A server this process started; `stop()` shuts it down and deletes its directory. */
export interface ThrowawayServer {
  url: string;
  port: number;
  pid: number;
  /** Temp dir holding the server's data, socket and log. */
  dir: string;
  /** How long start-up took (including initdb for Postgres). */
  startMs: number;
  /** Only for Postgres: the major version of the binaries used. */
  version?: string;
  stop(): Promise<void>;
}

/** Why Redis at `url` cannot be used, or null when it answers PING. */
export async function probeRedis(url: string, timeoutMs = 2000): Promise<string | null> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let socketError: unknown;
  client.on("error", (error) => {
    socketError ??= error; // e.g. ECONNREFUSED; connect() itself only says "Connection is closed."
  });
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return errorMessage(socketError ?? error);
  } finally {
    client.disconnect();
  }
}

/** Why Postgres at `url` cannot be used by the tests (unreachable, or may not create databases), or null. */
export async function probePostgres(url: string, timeoutMs = 3000): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      "SELECT rolsuper OR rolcreatedb AS ok FROM pg_roles WHERE rolname = current_user",
    );
    return rows[0]?.ok ? null : "the role may not create databases (needs CREATEDB)";
  } catch (error) {
    return errorMessage(error);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function startRedisServer(): Promise<ThrowawayServer> {
  const binary = findOnPath("redis-server");
  if (!binary) {
    throw new Error(
      "redis-server is not installed. Install it with `apt-get install -y redis-server` (Debian/Ubuntu package " +
        "`redis-server`), or point SLUICE_TEST_REDIS_URL at a running Redis.",
    );
  }
  const started = Date.now();
  const home = createServerDir("sluice-redis-", "TERM");
  try {
    const server = await startWithFreePort(home, async (port, logFd) => {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      const child = spawn(binary, [...args, "--dir", home.dir, "--daemonize", "no"], {
        cwd: home.dir,
        stdio: ["ignore", logFd, logFd],
      });
      home.setPid(child.pid);
      const url = `redis://127.0.0.1:${port}`;
      await waitUntilReady(child, home.dir, () => probeRedis(url, 500), "redis-server");
      return { child, url };
    });
    return serverHandle(home, server, "SIGTERM", Date.now() - started);
  } catch (error) {
    home.remove();
    throw error;
  }
}

export async function startPostgresServer(): Promise<ThrowawayServer> {
  const bin = findPostgresBinDir();
  if (!bin) {
    throw new Error(
      "PostgreSQL server binaries are not installed (looked for /usr/lib/postgresql/*/bin/postgres and initdb on " +
        "PATH). Install them with `apt-get install -y postgresql` (Debian/Ubuntu package `postgresql`), or point " +
        "SLUICE_TEST_DATABASE_URL at a running Postgres.",
    );
  }
  const started = Date.now();
  // SIGQUIT is Postgres' (and initdb's) immediate shutdown, for the watchdog.
  const home = createServerDir("sluice-pg-", "QUIT");
  const { dir } = home;
  try {
    // Postgres refuses to run as root: run it as the `postgres` user (or `nobody`) in a dir it owns.
    const user = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    const dataDir = join(dir, "data");
    const options = {
      cwd: dir,
      env: { ...process.env, LC_ALL: "C", LANG: "C", HOME: dir },
      uid: user?.uid,
      gid: user?.gid,
    };
    await new Promise<void>((resolve, reject) => {
      const initdb = execFile(
        join(bin.dir, "initdb"),
        ["-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        { ...options, maxBuffer: 16 * 1024 * 1024 },
        (error, _stdout, stderr) =>
          error ? reject(new Error(`initdb failed: ${stderr.trim() || error.message}`)) : resolve(),
      );
      home.setPid(initdb.pid);
    });
    const server = await startWithFreePort(home, async (port, logFd) => {
      const settings = {
        listen_addresses: "127.0.0.1",
        unix_socket_directories: dir,
        fsync: "off",
        synchronous_commit: "off",
        full_page_writes: "off",
        max_connections: "300",
        dynamic_shared_memory_type: "mmap", // containers often have a tiny /dev/shm
      };
      const args = [
        "-D",
        dataDir,
        "-p",
        String(port),
        ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
      ];
      const child = spawn(join(bin.dir, "postgres"), args, { ...options, stdio: ["ignore", logFd, logFd] });
      home.setPid(child.pid);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      await waitUntilReady(child, dir, () => probePostgres(url, 1000), "postgres");
      return { child, url };
    });
    // SIGINT is Postgres' "fast" shutdown: disconnect clients, stop cleanly.
    return { ...serverHandle(home, server, "SIGINT", Date.now() - started), version: bin.version };
  } catch (error) {
    home.remove();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Runs detached from this process: once this process is gone (even killed with SIGKILL) it stops the
 * server whose pid is in `$dir/server.pid` and deletes `$dir`. It exits by itself when `$dir` is removed.
 */
const WATCHDOG = `
parent=$1 dir=$2 sig=$3
while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
[ -d "$dir" ] || exit 0
pid=$(cat "$dir/server.pid" 2>/dev/null || true)
if [ -n "$pid" ]; then
  kill -"$sig" "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
  sleep 1
fi
rm -rf "$dir"
`;

interface ServerDir {
  dir: string;
  /** Records the pid the watchdog must stop (initdb, then the server). */
  setPid(pid: number | undefined): void;
  /** Deletes the dir and ends the watchdog (once the server is stopped). */
  remove(): void;
}

function createServerDir(prefix: string, watchdogSignal: string): ServerDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const watchdog = spawn("sh", ["-c", WATCHDOG, "sluice-test-watchdog", String(process.pid), dir, watchdogSignal], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  let pid: number | undefined;
  const onExit = () => {
    // The run is ending without stopping the server: start its shutdown now, the watchdog finishes it.
    if (pid) {
      try {
        process.kill(pid, watchdogSignal === "QUIT" ? "SIGQUIT" : "SIGTERM");
      } catch {}
    }
  };
  process.once("exit", onExit);
  return {
    dir,
    setPid(next) {
      pid = next;
      if (next) writeFileSync(join(dir, "server.pid"), String(next));
    },
    remove() {
      process.off("exit", onExit);
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      try {
        if (watchdog.pid) process.kill(-watchdog.pid, "SIGTERM"); // its group: sh and its sleep
      } catch {}
    },
  };
}

interface Started {
  child: ChildProcess;
  url: string;
  port: number;
}

function serverHandle(home: ServerDir, server: Started, stopSignal: NodeJS.Signals, startMs: number): ThrowawayServer {
  let stopping: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    pid: server.child.pid as number,
    dir: home.dir,
    startMs,
    stop() {
      stopping ??= stopChild(server.child, stopSignal).then(() => home.remove());
      return stopping;
    },
  };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000).unref());
  if (await Promise.race([exited.then(() => true), timeout])) return;
  child.kill("SIGKILL");
  await exited;
}

/** Picks a free port and starts the server on it, trying again if another process took the port meanwhile. */
async function startWithFreePort(
  home: ServerDir,
  start: (port: number, logFd: number) => Promise<{ child: ChildProcess; url: string }>,
): Promise<Started> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logFd = openSync(join(home.dir, "server.log"), "a");
    try {
      const { child, url } = await start(port, logFd);
      return { child, url, port };
    } catch (error) {
      if (attempt >= 3 || !/address already in use/i.test(errorMessage(error))) throw error;
    } finally {
      closeSync(logFd);
    }
  }
}

async function waitUntilReady(
  child: ChildProcess,
  dir: string,
  probe: () => Promise<string | null>,
  name: string,
  timeoutMs = 60_000,
): Promise<void> {
  let exit: string | undefined;
  child.once("exit", (code, signal) => {
    exit = `exited with ${signal ?? `code ${code}`}`;
  });
  child.once("error", (error) => {
    exit = `could not start: ${error.message}`;
  });
  const deadline = Date.now() + timeoutMs;
  let lastProblem: string | null = "not started";
  while (Date.now() < deadline) {
    if (exit) break;
    lastProblem = await probe();
    if (lastProblem === null) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!exit) await stopChild(child, "SIGKILL");
  throw new Error(
    `${name} ${exit ?? `did not accept connections within ${timeoutMs} ms (${lastProblem})`}:\n${logTail(dir)}`,
  );
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, "server.log"), "utf8").trim().split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

function findOnPath(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

/** Debian's /usr/lib/postgresql/<version>/bin (newest version first), else the directory of `initdb` on PATH. */
function findPostgresBinDir(): { dir: string; version?: string } | undefined {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const dir = join(root, version, "bin");
    if (existsSync(join(dir, "postgres")) && existsSync(join(dir, "initdb"))) return { dir, version };
  }
  const initdb = findOnPath("initdb");
  if (initdb) {
    const dir = initdb.slice(0, -"/initdb".length);
    if (existsSync(join(dir, "postgres"))) return { dir };
  }
  return undefined;
}

function unprivilegedUser(): { uid: number; gid: number } {
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8", stdio: "pipe" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8", stdio: "pipe" }).trim());
      if (uid > 0) return { uid, gid };
    } catch {}
  }
  throw new Error("Running as root, but there is no `postgres` (or `nobody`) user to run a throwaway Postgres as.");
}

function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(errorMessage).join("; ");
  return error instanceof Error ? error.message || error.name : String(error);
}
