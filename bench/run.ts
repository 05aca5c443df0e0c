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
import { describeReceived, type OtlpReceiver, startOtlpReceiver } from "./otlp-receiver.js";
import { PEER_SETTINGS, type PeerRun, startPeer } from "./peers.js";
import { Progress } from "./progress.js";
import { textTable, writeReport } from "./report.js";
import {
  type BenchReport,
  type Mode,
  mergeRounds,
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
import { TRACING_SETTINGS, tracingOverheadRows } from "./tracing.js";
import { chainPeer, chainSluice } from "./workloads/w1-chain.js";
import { throughputPeer, throughputSluice } from "./workloads/w2-throughput.js";
import { latencyPeer, latencySluice } from "./workloads/w3-latency.js";
import { etlSluice } from "./workloads/w4-etl.js";

const USAGE = `Usage: npm run bench -- [--quick] [--only W1,W2,W3,W4] [--systems sluice,bullmq,graphile-worker,pg-boss] [--rounds N] [--out DIR]

  --quick     small sizes (under a minute): a smoke check, not for comparing
  --only      these workloads (memory is measured during W2 and W3)
  --systems   these systems
  --rounds    W2 in N rounds, each starting every system afresh, the systems taking turns (default 3, 1 with --quick)
  --out       where to write the results (default bench/results, or bench/results/quick with --quick)`;

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

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      systems: { type: "string" },
      rounds: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
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
    return await runBench(mode, sizes, runnable, systems, outDir);
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
): Promise<number> {
  const workloads: Workload[] = [...runnable];
  if (runnable.includes("W2") || runnable.includes("W3")) workloads.push("memory");
  const peers = PEERS.filter((peer) => systems.includes(peer));
  const machine = await readMachine();
  const started = new Date();
  /** The rows of each round: W2 runs in every round (see Sizes.throughputRounds), the rest in the first. */
  const roundResults: Result[][] = [];
  const errors: string[] = [];
  const rounds = runnable.includes("W2") ? Math.max(1, sizes.throughputRounds) : 1;
  const inRound = (round: number, planned: readonly Workload[]) =>
    round === 0 ? [...planned] : planned.filter((w) => w === "W2");
  /** Step ids and labels of later rounds say which round they are. */
  const roundId = (round: number, id: string) => (round === 0 ? id : `${id}#${round + 1}`);
  const roundLabel = (round: number, label: string) => (rounds > 1 ? `${label} (round ${round + 1}/${rounds})` : label);
  // W2 and W3 run again on a traced Sluice cluster (tracing.ts).
  const traced = systems.includes("sluice") ? runnable.filter((w) => TRACED_WORKLOADS.includes(w)) : [];
  /** What the traced clusters' receivers got, over every round. */
  let tracing: BenchReport["run"]["tracing"];
  // The traced workloads first, in the order the traced cluster runs them, so each pair (tracing
  // off and on) is measured in the same position on a fresh cluster.
  const sluiceOrder = [...traced, ...runnable.filter((w) => !traced.includes(w))];

  // The plan: Sluice's workloads on one cluster, W2 and W3 on a traced one, then each peer's on its own workers.
  const weight: Record<Workload, number> = {
    W1: 2 + (sizes.chainRepeats + 1) * 1.5,
    W2: 3 + (sizes.throughputRepeats * sizes.throughputTasks) / 1000,
    W3: 3 + sizes.latencySeconds,
    W4: 3 + (sizes.etlRuns * sizes.etlRows) / 40_000,
    memory: 0,
  };
  const peerWorkloads = runnable.filter((w) => PEER_WORKLOADS.includes(w));
  const progress = new Progress(
    Array.from({ length: rounds }, (_, round) => [
      ...(systems.includes("sluice") && runnable.length > 0
        ? [
            {
              id: roundId(round, "sluice:start"),
              label: roundLabel(round, "sluice: start server + 2 workers"),
              weight: 8,
            },
            ...inRound(round, sluiceOrder).map((w) => ({
              id: roundId(round, `sluice:${w}`),
              label: roundLabel(round, `${w} · sluice`),
              weight: weight[w],
            })),
          ]
        : []),
      ...(traced.length > 0
        ? [
            {
              id: roundId(round, "sluice-traced:start"),
              label: roundLabel(round, "sluice (tracing on): start server + 2 workers"),
              weight: 8,
            },
            ...inRound(round, traced).map((w) => ({
              id: roundId(round, `sluice-traced:${w}`),
              label: roundLabel(round, `${w} · sluice (tracing on)`),
              weight: weight[w],
            })),
          ]
        : []),
      ...peers.flatMap((peer) =>
        inRound(round, peerWorkloads).length > 0
          ? [
              { id: roundId(round, `${peer}:start`), label: roundLabel(round, `${peer}: start 2 workers`), weight: 3 },
              ...inRound(round, peerWorkloads).map((w) => ({
                id: roundId(round, `${peer}:${w}`),
                label: roundLabel(round, `${w} · ${peer}`),
                weight: weight[w] / 2,
              })),
            ]
          : [],
      ),
    ]).flat(),
    process.stderr,
  );
  let round = 0;
  const ctx: BenchContext = { sizes, progress, record: (result) => roundResults[round]?.push(result) };
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
  const runSluice = async (id: string, workloads: Workload[], receiver?: OtlpReceiver) => {
    let cluster: SluiceCluster | undefined;
    const closeCluster = async () => cluster?.close();
    cleanups.add(closeCluster);
    try {
      if (
        await step(roundId(round, `${id}:start`), async () => {
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
          if (body) await step(roundId(round, `${id}:${workload}`), () => body(ctx, sluice));
        }
      }
    } finally {
      await closeCluster().catch((error) => errors.push(`closing the Sluice cluster (${id}): ${error}`));
      cleanups.delete(closeCluster);
    }
  };

  for (round = 0; round < rounds && !interrupted; round++) {
    roundResults.push([]);
    if (systems.includes("sluice") && runnable.length > 0) await runSluice("sluice", inRound(round, sluiceOrder));
    if (traced.length > 0 && !interrupted) {
      const receiver = await startOtlpReceiver();
      const closeReceiver = () => receiver.close();
      cleanups.add(closeReceiver);
      try {
        await runSluice("sluice-traced", inRound(round, traced), receiver);
        // Counted once the cluster has stopped: its processes export what they still buffer as they exit.
        const received = receiver.received();
        tracing = {
          settings: TRACING_SETTINGS,
          requests: (tracing?.requests ?? 0) + received.requests,
          bytes: (tracing?.bytes ?? 0) + received.bytes,
        };
      } finally {
        await closeReceiver();
        cleanups.delete(closeReceiver);
      }
    }

    for (const peer of peers) {
      const workloadsNow = inRound(round, peerWorkloads);
      if (workloadsNow.length === 0) continue;
      let handle: PeerRun | undefined;
      const closePeer = async () => handle?.close();
      cleanups.add(closePeer);
      try {
        if (
          await step(roundId(round, `${peer}:start`), async () => {
            handle = await startPeer(peer, sizes.chainTaskMs, onStderr);
          })
        ) {
          const run = handle as PeerRun;
          const bodies: Record<string, (c: BenchContext, p: PeerRun) => Promise<void>> = {
            W1: chainPeer,
            W2: throughputPeer,
            W3: latencyPeer,
          };
          for (const workload of workloadsNow) {
            const body = bodies[workload];
            if (body) await step(roundId(round, `${peer}:${workload}`), () => body(ctx, run));
          }
        }
      } finally {
        await closePeer().catch((error) => errors.push(`closing ${peer}: ${error}`));
        cleanups.delete(closePeer);
      }
    }
  }
  const results = mergeRounds(roundResults);
  if (traced.length > 0) results.push(...tracingOverheadRows(results));
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
