/**
 * `npm run bench`: Sluice and its peers (raw BullMQ, graphile-worker, pg-boss) side by side on
 * this machine's Redis and Postgres, workloads W1–W4 and memory (see ../../shared/DESIGN.md,
 * "Performance goals"), and Sluice's W2 and W3 again with tracing on (tracing.ts). Prints a table
 * and writes bench/results/<timestamp>.json, latest.json, latest.md and latest.svg (a `--quick`
 * run writes them under bench/results/quick/ instead, so it never replaces the committed full
 * results). Exits 1 when a result row is missing or not finite, or when the traced cluster's spans
 * never reached the receiver; such a run writes only its timestamped file.
 *
 *   npm run bench                          # everything, a few minutes
 *   npm run bench -- --quick               # small sizes, under a minute
 *   npm run bench -- --only W2,W3 --systems sluice,bullmq
 *   npm run bench -- --only W2 --rounds 5  # W2 alone, five rounds
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BenchError, ROOT, SLUICE_SETTINGS, type SluiceCluster, startSluiceCluster } from "./cluster.js";
import type { BenchContext } from "./context.js";
import { imageNodeMajor, rerunOnImageNode } from "./image-node.js";
import { describeReceived, type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { PEER_SETTINGS, type PeerRun, startPeer } from "./peers.js";
import { Progress } from "./progress.js";
import { textTable, writeReport } from "./report.js";
import {
  type BenchReport,
  type Mode,
  mergeRounds,
  type NodeChoice,
  PEERS,
  type Peer,
  type Result,
  reportProblems,
  SIZES,
  type Sizes,
  SYSTEMS,
  type System,
  type Workload,
} from "./results.js";
import { provisionServices, readMachine } from "./services.js";
import { mergeRoundsWithTracingOverhead, TRACING_SETTINGS } from "./tracing.js";
import { chainPeer, chainSluice } from "./workloads/w1-chain.js";
import { throughputPeer, throughputSluice } from "./workloads/w2-throughput.js";
import { latencyPeer, latencySluice } from "./workloads/w3-latency.js";
import { etlSluice } from "./workloads/w4-etl.js";

const USAGE = `Usage: npm run bench -- [--quick] [--only W1,W2,W3,W4] [--systems sluice,bullmq,graphile-worker,pg-boss] [--rounds N] [--out DIR] [--node image|current]

  --quick     small sizes (under a minute): a smoke check, not for comparing
  --only      these workloads (memory is measured during W2 and W3)
  --systems   these systems
  --rounds    W2 in N rounds, each starting every system afresh, the systems taking turns (default 3, 1 with --quick)
  --out       where to write the results (default bench/results, or bench/results/quick with --quick)
  --node      image: run everything on the Node major of infra/Dockerfile, from npm when this Node is another (default);
              current: on the Node that runs this`;

function parseList<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] {
  if (value === undefined) return [...allowed];
  const items = value.split(",").map((item) => item.trim()) as T[];
  const unknown = items.filter((item) => !allowed.includes(item));
  if (unknown.length > 0) throw new Error(`unknown ${what}: ${unknown.join(", ")} (known: ${allowed.join(", ")})`);
  return allowed.filter((item) => items.includes(item));
}

const RUNNABLE: Workload[] = ["W1", "W2", "W3", "W4"];
const PEER_WORKLOADS: Workload[] = ["W1", "W2", "W3"];
const TRACED_WORKLOADS: Workload[] = ["W2", "W3"];

/** Who runs a pass's workloads: Sluice's cluster, its traced twin, or a peer's workers. */
type Runner = "sluice" | "sluice-traced" | Peer;

const RUNNER_START: Record<Runner, string> = {
  sluice: "sluice: start server + 2 workers",
  "sluice-traced": "sluice (tracing on): start server + 2 workers",
  bullmq: "bullmq: start 2 workers",
  "graphile-worker": "graphile-worker: start 2 workers",
  "pg-boss": "pg-boss: start 2 workers",
};

/** Systems started afresh, each running some workloads, one after the other. */
interface Pass {
  /** Step-id suffix, so the steps of W2's rounds stay apart ("#2"). */
  suffix: string;
  /** Added to its steps' labels (" (W2 round 2/3)"). */
  label: string;
  runs: { runner: Runner; workloads: Workload[] }[];
}

/**
 * The run's plan. With one round, one pass: every system runs all its workloads. With more, W2
 * first in rounds, each starting every system afresh and timing its W2, the systems taking turns
 * (a different one first each round), so the drift of a shared machine's speed over minutes falls
 * on all of them alike; then one pass of the other workloads. Sluice and its traced twin go
 * together (their pair gives tracing's overhead), the traced workloads first on both, so each
 * pair is measured in the same position on a fresh cluster.
 */
function planPasses(sizes: Sizes, runnable: Workload[], systems: System[], traced: Workload[]): Pass[] {
  const sluice: Runner[] = traced.length > 0 ? ["sluice", "sluice-traced"] : ["sluice"];
  const groups: Runner[][] = [
    ...(systems.includes("sluice") ? [sluice] : []),
    ...PEERS.filter((peer) => systems.includes(peer)).map((peer) => [peer]),
  ];
  const runsOf = (workloads: Workload[], order: Runner[][]) =>
    order
      .flat()
      .map((runner) => ({ runner, workloads: workloadsOf(runner, workloads, traced) }))
      .filter((run) => run.workloads.length > 0);
  const rounds = runnable.includes("W2") ? sizes.throughputRounds : 1;
  if (rounds <= 1) return [{ suffix: "", label: "", runs: runsOf(runnable, groups) }];
  const passes: Pass[] = Array.from({ length: rounds }, (_, round) => {
    const first = round % Math.max(1, groups.length);
    return {
      suffix: `#${round + 1}`,
      label: ` (W2 round ${round + 1}/${rounds})`,
      runs: runsOf(["W2"], [...groups.slice(first), ...groups.slice(0, first)]),
    };
  });
  const others = runnable.filter((w) => w !== "W2");
  if (others.length > 0) passes.push({ suffix: "", label: "", runs: runsOf(others, groups) });
  return passes;
}

/** What a runner runs of a pass's workloads, in order: on Sluice, the traced ones first. */
function workloadsOf(runner: Runner, workloads: Workload[], traced: Workload[]): Workload[] {
  if (runner === "sluice")
    return [...workloads.filter((w) => traced.includes(w)), ...workloads.filter((w) => !traced.includes(w))];
  if (runner === "sluice-traced") return workloads.filter((w) => traced.includes(w));
  return workloads.filter((w) => PEER_WORKLOADS.includes(w));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      systems: { type: "string" },
      rounds: { type: "string" },
      out: { type: "string" },
      node: { type: "string", default: "image" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rerun = await rerunOnImageNode(values.node, (line) => process.stderr.write(`${line}\n`));
  if (rerun !== undefined) return rerun;
  const mode: Mode = values.quick ? "quick" : "full";
  const runnable = parseList(values.only, RUNNABLE, "workloads");
  const sizes = { ...SIZES[mode] };
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1)
      throw new Error(`--rounds must be a whole number ≥ 1, not '${values.rounds}'`);
    sizes.throughputRounds = rounds;
  }
  const systems = parseList<System>(values.systems, SYSTEMS, "systems");
  const outDir = values.out ?? join(ROOT, "bench", "results", ...(mode === "quick" ? ["quick"] : []));

  const stopServices = await provisionServices((line) => process.stderr.write(`${line}\n`));
  try {
    return await runBench(mode, sizes, runnable, systems, outDir, values.node as NodeChoice);
  } finally {
    await stopServices();
  }
}

async function runBench(
  mode: Mode,
  sizes: Sizes,
  runnable: Workload[],
  systems: System[],
  outDir: string,
  node: NodeChoice,
): Promise<number> {
  const workloads: Workload[] = [...runnable];
  if (runnable.includes("W2") || runnable.includes("W3")) workloads.push("memory");
  const peers = PEERS.filter((peer) => systems.includes(peer));
  const machine = await readMachine();
  const started = new Date();
  const errors: string[] = [];
  // W2 and W3 run again on a traced Sluice cluster (tracing.ts).
  const traced = systems.includes("sluice") ? runnable.filter((w) => TRACED_WORKLOADS.includes(w)) : [];
  /** What the traced clusters' receivers got, over every pass. */
  let tracing: BenchReport["run"]["tracing"];
  const passes = planPasses(sizes, runnable, systems, traced);
  /** The rows each pass recorded, merged at the end (W2's rounds into one row per system). */
  const passResults: Result[][] = passes.map(() => []);

  const weight: Record<Workload, number> = {
    W1: 2 + (sizes.chainRepeats + 1) * 1.5,
    W2: 3 + (sizes.throughputRepeats * sizes.throughputTasks) / 1000,
    W3: 3 + sizes.latencySeconds,
    W4: 3 + (sizes.etlRuns * sizes.etlRows) / 40_000,
    memory: 0,
  };
  const progress = new Progress(
    passes.flatMap((pass) =>
      pass.runs.flatMap(({ runner, workloads }) => [
        { id: `${runner}:start${pass.suffix}`, label: `${RUNNER_START[runner]}${pass.label}`, weight: 5 },
        ...workloads.map((w) => ({
          id: `${runner}:${w}${pass.suffix}`,
          label: `${w} · ${runner === "sluice-traced" ? "sluice (tracing on)" : runner}${pass.label}`,
          weight: PEERS.includes(runner as Peer) ? weight[w] / 2 : weight[w],
        })),
      ]),
    ),
    process.stderr,
  );
  let passIndex = 0;
  const ctx: BenchContext = { sizes, progress, record: (result) => passResults[passIndex]?.push(result) };
  const onStderr = (line: string) => progress.log(line);

  const cleanups = new Set<() => Promise<void>>();
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.log("interrupted: cleaning up (Ctrl-C again to leave everything behind)");
    void Promise.allSettled([...cleanups].map((cleanup) => cleanup())).then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  /** Runs one step; a failure is reported and the run goes on (the results will be incomplete). */
  const step = async (id: string, body: () => Promise<unknown>): Promise<boolean> => {
    if (interrupted) return false;
    progress.start(id);
    try {
      await body();
      progress.done();
      return true;
    } catch (error) {
      // A BenchError says what went wrong in the workload; anything else is a bug here: show where.
      const detail = error instanceof BenchError || !(error instanceof Error) ? String(error) : error.stack;
      const message = `${id} failed: ${detail}`;
      errors.push(message);
      progress.done("FAILED");
      progress.log(message);
      return false;
    }
  };

  /** Sluice's workloads on a cluster of its own; with `receiver`, a traced one exporting its spans there. */
  const runSluice = async (id: string, workloads: Workload[], suffix: string, receiver?: OtlpReceiver) => {
    let cluster: SluiceCluster | undefined;
    const closeCluster = async () => cluster?.close();
    cleanups.add(closeCluster);
    try {
      if (
        await step(`${id}:start${suffix}`, async () => {
          cluster = await startSluiceCluster(onStderr, (what, fraction) => progress.update(fraction, what), {
            tracing: receiver,
          });
        })
      ) {
        const sluice = cluster as SluiceCluster;
        const bodies: Record<string, (c: BenchContext, s: SluiceCluster) => Promise<void>> = {
          W1: chainSluice,
          W2: throughputSluice,
          W3: latencySluice,
          W4: etlSluice,
        };
        for (const workload of workloads) {
          const body = bodies[workload];
          if (body) await step(`${id}:${workload}${suffix}`, () => body(ctx, sluice));
        }
      }
    } finally {
      await closeCluster().catch((error) => errors.push(`closing the Sluice cluster (${id}): ${error}`));
      cleanups.delete(closeCluster);
    }
  };

  /** A peer's workloads on its own two worker processes. */
  const runPeer = async (peer: Peer, workloads: Workload[], suffix: string) => {
    let handle: PeerRun | undefined;
    const closePeer = async () => handle?.close();
    cleanups.add(closePeer);
    try {
      if (
        await step(`${peer}:start${suffix}`, async () => {
          handle = await startPeer(peer, sizes.chainTaskMs, onStderr);
        })
      ) {
        const run = handle as PeerRun;
        const bodies: Record<string, (c: BenchContext, p: PeerRun) => Promise<void>> = {
          W1: chainPeer,
          W2: throughputPeer,
          W3: latencyPeer,
        };
        for (const workload of workloads) {
          const body = bodies[workload];
          if (body) await step(`${peer}:${workload}${suffix}`, () => body(ctx, run));
        }
      }
    } finally {
      await closePeer().catch((error) => errors.push(`closing ${peer}: ${error}`));
      cleanups.delete(closePeer);
    }
  };

  /** The traced cluster's workloads, its spans counted by a receiver of its own. */
  const runTraced = async (workloads: Workload[], suffix: string) => {
    const receiver = await startOtlpReceiver();
    const closeReceiver = () => receiver.close();
    cleanups.add(closeReceiver);
    try {
      await runSluice("sluice-traced", workloads, suffix, receiver);
      // Counted once the cluster has stopped: its processes export what they still buffer as they exit.
      const received = receiver.received();
      if (received.requests === 0 && !interrupted)
        errors.push(`sluice (tracing on)${suffix}: no spans reached the OTLP receiver`);
      tracing = {
        settings: TRACING_SETTINGS,
        requests: (tracing?.requests ?? 0) + received.requests,
        bytes: (tracing?.bytes ?? 0) + received.bytes,
      };
    } finally {
      await closeReceiver();
      cleanups.delete(closeReceiver);
    }
  };

  for (const [index, pass] of passes.entries()) {
    passIndex = index;
    for (const { runner, workloads } of pass.runs) {
      if (interrupted) break;
      if (runner === "sluice") await runSluice("sluice", workloads, pass.suffix);
      else if (runner === "sluice-traced") await runTraced(workloads, pass.suffix);
      else await runPeer(runner, workloads, pass.suffix);
    }
  }
  const results = traced.length > 0 ? mergeRoundsWithTracingOverhead(passResults) : mergeRounds(passResults);
  progress.finish();
  if (interrupted) return 130;

  const settings: Partial<Record<System, string>> = {};
  if (systems.includes("sluice")) settings.sluice = SLUICE_SETTINGS;
  for (const peer of peers) settings[peer as Peer] = PEER_SETTINGS[peer].description;
  const report: BenchReport = {
    machine,
    results,
    run: {
      mode,
      started_at: started.toISOString(),
      seconds: Math.round((Date.now() - started.getTime()) / 100) / 10,
      workloads,
      systems,
      sizes,
      settings,
      node,
      image_node: imageNodeMajor(),
      ...(tracing ? { tracing } : {}),
    },
  };
  const problems = [...errors, ...reportProblems(report)];
  // An incomplete run never replaces latest.* (the committed results): only its timestamped file is written.
  const files = writeReport(report, outDir, { latest: problems.length === 0 });
  process.stdout.write(
    `\n${textTable(results)}\n\n${machine.cores} cores, node ${machine.node}, redis ${machine.redis}, ` +
      `postgres ${machine.postgres}; ${mode} run in ${report.run.seconds} s\n`,
  );
  if (tracing) process.stdout.write(`Tracing on: the OTLP receiver got ${describeReceived(tracing)} of spans\n`);
  process.stdout.write(`Written: ${files.map((file) => file.replace(ROOT, "")).join(", ")}\n`);
  if (problems.length > 0) {
    process.stderr.write(`\nThe results are incomplete:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
