/**
 * W3 latency: an open loop of 100 flow runs per second for 30 s through `create_flow_run` (a
 * request is sent on schedule whether or not the earlier ones have answered), for a no-op flow;
 * p50/p95/p99 from the request's scheduled send time to the run's Running and Completed states
 * (their timestamps in Postgres); requests wait for one of 32 keep-alive connections, as in any
 * HTTP client, so a server falling behind shows as latency, not as refused connections. The peers get the same open loop of enqueues, timed to the job's start.
 * Also the peak RSS of Sluice's processes during it. On a traced cluster the same, recorded as the
 * "(tracing on)" variants.
 */
import { apiLoadClient, createFlowRun, epochMs, type SluiceCluster, waitForFlowRuns, waitUntil } from "../cluster.js";
import { type BenchContext, formatCount, now } from "../context.js";
import { describePeaks, measurePeakRss } from "../memory.js";
import type { PeerRun } from "../peers.js";
import { type Metric, percentile, type Result, round, type System, VARIANT } from "../results.js";
import { exportsSince } from "../tracing.js";

/** Keep-alive connections the open loop may use to the API (a client's pool; requests beyond wait). */
const LOAD_SOCKETS = 32;

/** Calls `send(i)` for i = 0..count-1 at `rate` per second, without waiting for the answers. */
async function openLoop<T>(count: number, rate: number, send: (i: number) => Promise<T>, onSent: (i: number) => void) {
  const gapMs = 1000 / rate;
  const began = performance.now();
  const requests: Promise<T>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = began + i * gapMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    requests.push(send(i));
    onSent(i);
  }
  return Promise.all(requests);
}

function percentileRows(system: System, variant: string, latencies: number[], notes: string): Result[] {
  return (
    [
      ["p50_ms", 50],
      ["p95_ms", 95],
      ["p99_ms", 99],
    ] as [Metric, number][]
  ).map(([metric, p]) => ({
    workload: "W3",
    system,
    variant,
    metric,
    value: round(percentile(latencies, p)),
    notes,
  }));
}

export async function latencySluice(ctx: BenchContext, cluster: SluiceCluster): Promise<void> {
  const { latencyRate: rate, latencySeconds } = ctx.sizes;
  const runs = rate * latencySeconds;
  const deployment = await cluster.deployment("Noop", "noop");
  const warmUp = await Promise.all(Array.from({ length: 4 }, () => createFlowRun(cluster, deployment)));
  await waitForFlowRuns(cluster, warmUp, "the warm-up runs");
  await cluster.truncateRuns();

  const pids = [cluster.server.pid, ...cluster.workers.map((worker) => worker.pid)];
  const http = apiLoadClient(cluster.apiUrl, LOAD_SOCKETS);
  const exported = exportsSince(cluster.tracing);
  const { result, peaksMb, startsMb, sinceStart } = await measurePeakRss(pids, async () => {
    const sent = new Map<string, number>();
    await openLoop(
      runs,
      rate,
      async () => {
        const at = now();
        const run = (await http.post(`/deployments/${deployment.id}/create_flow_run`, {})) as { id: string };
        sent.set(run.id, at);
      },
      (i) => ctx.progress.update((0.9 * (i + 1)) / runs, `${formatCount(i + 1)}/${formatCount(runs)} runs created`),
    );
    const ids = [...sent.keys()];
    await waitForFlowRuns(cluster, ids, "every run Completed", (n) =>
      ctx.progress.update(0.9 + (0.1 * n) / runs, `${formatCount(n)}/${formatCount(runs)} runs Completed`),
    );
    const { rows } = await cluster.pool.query<{ flow_run_id: string; type: string; ms: number }>(
      `SELECT flow_run_id, type, ${epochMs("timestamp")} AS ms FROM flow_run_states WHERE flow_run_id = ANY($1) AND type IN ('RUNNING', 'COMPLETED')`,
      [ids],
    );
    const toRunning: number[] = [];
    const toCompleted: number[] = [];
    for (const row of rows) {
      const latency = row.ms - (sent.get(row.flow_run_id) as number);
      (row.type === "RUNNING" ? toRunning : toCompleted).push(latency);
    }
    return { toRunning, toCompleted, exported: exported() };
  }).finally(() => http.close());
  const what = `${formatCount(runs)} runs of a no-op flow at ${rate}/s (open loop), create_flow_run request →`;
  for (const row of [
    ...percentileRows(
      "sluice",
      cluster.variant(VARIANT.toRunning),
      result.toRunning,
      `${what} Running state${result.exported}`,
    ),
    ...percentileRows("sluice", cluster.variant(VARIANT.toCompleted), result.toCompleted, `${what} Completed state`),
  ]) {
    ctx.record(row);
  }
  const [server = Number.NaN, ...workers] = peaksMb;
  const [serverStart = Number.NaN, ...workerStarts] = startsMb;
  const peak = sinceStart ? "peak since start" : "peak during W3";
  ctx.record({
    workload: "memory",
    system: "sluice",
    variant: cluster.variant(VARIANT.workerW3),
    metric: "rss_mb",
    value: round(Math.max(...workers)),
    notes: `the larger of the 2 workers: ${describePeaks(workers, workerStarts)}, VmHWM ${peak}`,
  });
  ctx.record({
    workload: "memory",
    system: "sluice",
    variant: cluster.variant(VARIANT.serverW3),
    metric: "rss_mb",
    value: round(server),
    notes: `sluice server start (api + scheduler + recorder): ${describePeaks([server], [serverStart])}, VmHWM ${peak}`,
  });
}

export async function latencyPeer(ctx: BenchContext, peer: PeerRun): Promise<void> {
  const { latencyRate: rate, latencySeconds } = ctx.sizes;
  const jobs = rate * latencySeconds;
  // Sequence numbers per run of this function: warm-up jobs first, then the timed ones.
  const warmUp = 4;
  await Promise.all(Array.from({ length: warmUp }, (_, i) => peer.addLatencyJob(-1 - i)));
  await waitUntil(
    () => Array.from({ length: warmUp }, (_, i) => peer.startedAt(-1 - i)).every((at) => at !== undefined),
    `${peer.system} warm-up`,
    { alive: peer.alive },
  );
  const sent = await openLoop(
    jobs,
    rate,
    (i) => peer.addLatencyJob(i),
    (i) => ctx.progress.update((0.95 * (i + 1)) / jobs, `${formatCount(i + 1)}/${formatCount(jobs)} jobs enqueued`),
  );
  await waitUntil(
    () => sent.every((_, i) => peer.startedAt(i) !== undefined),
    `${peer.system}: every latency job started`,
    { alive: peer.alive, everyMs: 20, timeoutMs: 120_000 },
  );
  const latencies = sent.map((at, i) => (peer.startedAt(i) as number) - at);
  for (const row of percentileRows(
    peer.system,
    VARIANT.toRunning,
    latencies,
    `${formatCount(jobs)} no-op jobs at ${rate}/s (open loop), enqueue call → job handler started; ${peer.settings.description}`,
  )) {
    ctx.record(row);
  }
}
