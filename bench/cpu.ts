/**
 * Where W2's CPU goes: `.map()`s of no-op task runs on the bench's Sluice cluster (a server and two
 * workers), each timed like W2 (until every run is recorded Completed and the flow run is over),
 * with the CPU time (and the part of it in the kernel) and write syscalls (socket writes among
 * them) every process spent meanwhile, read from /proc: the workers, the server (API, recorder,
 * scheduler), and all of the machine's Postgres and Redis processes; and the Redis commands they
 * sent (INFO commandstats). On a shared machine CPU time per task run moves much less than
 * throughput, so this is the figure to compare two versions by. Linux only.
 *
 * With `--tracing` the cluster traces every run and exports its spans to an OTLP receiver in this
 * process, as the bench's traced cluster does: the difference is what tracing costs.
 *
 * Like `npm run bench`, on the image's Node major unless `--node current` (image-node.ts).
 *
 *   npm run bench:cpu -- [--maps 3] [--tasks 20000] [--tracing] [--node image|current]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import {
  createFlowRun,
  type SluiceCluster,
  services,
  startSluiceCluster,
  waitForFlowRuns,
  waitUntil,
} from "./cluster.js";
import { formatCount, now } from "./context.js";
import { rerunOnImageNode } from "./image-node.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { provisionServices } from "./services.js";

const CLOCK_TICKS_PER_SECOND = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User and system CPU seconds of a process so far (undefined once it is gone). */
function cpuTimes(pid: number): { user: number; system: number } | undefined {
  try {
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return { user: Number(fields[11]) / CLOCK_TICKS_PER_SECOND, system: Number(fields[12]) / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of a process so far. */
const cpuSeconds = (pid: number) => {
  const times = cpuTimes(pid);
  return times && times.user + times.system;
};
/** The part of `cpuSeconds` spent in the kernel (system calls: socket reads and writes, mostly). */
const systemSeconds = (pid: number) => cpuTimes(pid)?.system;

/** Write syscalls of a process so far (socket writes included; undefined once it is gone). */
function writeCalls(pid: number): number | undefined {
  try {
    const calls = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))?.[1];
    return calls === undefined ? undefined : Number(calls);
  } catch {
    return undefined;
  }
}

function pidsNamed(name: string): number[] {
  try {
    return execFileSync("pgrep", ["-x", name], { encoding: "utf8" }).trim().split("\n").map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

type Component = "worker 1" | "worker 2" | "server" | "postgres" | "redis";

/** Each component's processes, Postgres's and Redis's as they are now (read once per map). */
function processesOf(cluster: SluiceCluster): Record<Component, number[]> {
  const [first, second] = cluster.workers;
  return {
    "worker 1": [first?.pid ?? 0],
    "worker 2": [second?.pid ?? 0],
    server: [cluster.server.pid ?? 0],
    postgres: pidsNamed("postgres"),
    redis: pidsNamed("redis-server"),
  };
}

/**
 * What each component's processes spent between two readings of `read` (CPU seconds, or write
 * syscalls), counting only processes alive at both: a Postgres backend that exits meanwhile would
 * otherwise take its whole life's CPU out of the difference (one that starts meanwhile is missed,
 * which is less).
 */
function spentBetween(
  processes: Record<Component, number[]>,
  read: (pid: number) => number | undefined,
): () => Record<Component, number> {
  const before = new Map(Object.values(processes).flatMap((pids) => pids.map((pid) => [pid, read(pid)] as const)));
  return () =>
    Object.fromEntries(
      Object.entries(processes).map(([component, pids]) => [
        component,
        pids.reduce((sum, pid) => {
          const [start, end] = [before.get(pid), read(pid)];
          return start === undefined || end === undefined ? sum : sum + end - start;
        }, 0),
      ]),
    ) as Record<Component, number>;
}

/** (spent / tasks) for each component, times `scale`. */
function perTaskRun(spent: Record<Component, number>, tasks: number, scale: number): Record<Component, number> {
  return Object.fromEntries(
    Object.entries(spent).map(([component, value]) => [component, (value * scale) / tasks]),
  ) as Record<Component, number>;
}

async function commandCounts(redis: Redis): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const match of (await redis.info("commandstats")).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    counts.set(match[1] as string, Number(match[2]));
  return counts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      maps: { type: "string" },
      tasks: { type: "string" },
      tracing: { type: "boolean" },
      node: { type: "string", default: "image" },
    },
  });
  const rerun = await rerunOnImageNode(values.node, (line) => process.stderr.write(`${line}\n`));
  if (rerun !== undefined) process.exit(rerun);
  const maps = Number(values.maps ?? 3);
  const tasks = Number(values.tasks ?? 20_000);
  if (!Number.isInteger(maps) || maps < 1 || !Number.isInteger(tasks) || tasks < 1)
    throw new Error("--maps and --tasks must be whole numbers ≥ 1");
  const stopServices = await provisionServices((line) => process.stderr.write(`${line}\n`));
  const receiver = values.tracing ? await startOtlpReceiver() : undefined;
  const cluster = await startSluiceCluster(undefined, undefined, { tracing: receiver });
  const redis = new Redis(services.redisUrl);
  try {
    const deployment = await cluster.deployment("Noop Map", "noop-map");
    // As large as a timed map, as in W2 (see its warmUpTasks): the first map is not the slow one.
    const warmUp = await createFlowRun(cluster, deployment, { count: tasks });
    await waitForFlowRuns(cluster, [warmUp], "the warm-up run");
    const perRun: Record<Component | "all", number>[] = [];
    for (let map = 1; map <= maps; map++) {
      await cluster.truncateRuns();
      const processes = processesOf(cluster);
      const cpuSpent = spentBetween(processes, cpuSeconds);
      const systemSpent = spentBetween(processes, systemSeconds);
      const writesMade = spentBetween(processes, writeCalls);
      const commandsBefore = await commandCounts(redis);
      const sent = now();
      const id = await createFlowRun(cluster, deployment, { count: tasks });
      await waitUntil(
        async () => {
          const { rows } = await cluster.pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND state_type = 'COMPLETED'",
            [id],
          );
          return rows[0]?.n === tasks;
        },
        "every task run recorded Completed",
        { alive: cluster.alive, everyMs: 100 },
      );
      await waitForFlowRuns(cluster, [id], "the map's flow run");
      const seconds = (now() - sent) / 1000;
      const micros = perTaskRun(cpuSpent(), tasks, 1e6);
      const systemMicros = perTaskRun(systemSpent(), tasks, 1e6);
      const writes = perTaskRun(writesMade(), tasks, 1);
      const commandsAfter = await commandCounts(redis);
      const all = Object.values(micros).reduce((total, value) => total + value, 0);
      perRun.push({ ...micros, all });
      const commands = [...commandsAfter]
        .map(([name, calls]) => [name, (calls - (commandsBefore.get(name) ?? 0)) / tasks] as const)
        .filter(([, calls]) => calls > 0)
        .sort((a, b) => b[1] - a[1]);
      const total = commands.reduce((sum, [, calls]) => sum + calls, 0);
      process.stdout.write(
        `map ${map}/${maps}: ${formatCount(tasks)} task runs in ${seconds.toFixed(2)} s (${formatCount(Math.round(tasks / seconds))}/s)\n` +
          `  CPU µs per task run: ${describe(micros)}; all ${all.toFixed(0)}\n` +
          `    of which in the kernel: ${describe(systemMicros)}\n` +
          `  write syscalls per task run: ${describe(writes, 2)}\n` +
          `  Redis commands per task run: ${total.toFixed(2)} (${commands
            .slice(0, 6)
            .map(([name, calls]) => `${name} ${calls.toFixed(2)}`)
            .join(", ")})\n`,
      );
    }
    const mean = (key: Component | "all") => perRun.reduce((sum, row) => sum + row[key], 0) / perRun.length;
    const means = Object.fromEntries(
      (["worker 1", "worker 2", "server", "postgres", "redis"] as const).map((key) => [key, mean(key)]),
    ) as Record<Component, number>;
    process.stdout.write(`mean of ${maps}: CPU µs per task run: ${describe(means)}; all ${mean("all").toFixed(0)}\n`);
  } finally {
    redis.disconnect();
    await cluster.close();
    await receiver?.close();
    await stopServices();
  }
}

const describe = (values: Record<Component, number>, digits = 0) =>
  Object.entries(values)
    .map(([component, value]) => `${component} ${value.toFixed(digits)}`)
    .join(", ");

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:cpu: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
