/**
 * W2 throughput: 20,000 no-op task runs through `.map()` in one flow run on two workers, timed
 * from `create_flow_run` until every task run is recorded Completed in Postgres (with its state
 * history); the peers do 20,000 no-op jobs on two worker processes, timed from the first enqueue
 * to the last job. Also the peak RSS of the processes during it (the "memory" rows). On a traced
 * cluster the same, recorded as the "(tracing on)" variants.
 */
import type { ApiDeployment } from "@sluice/client";
import { createFlowRun, epochMs, type SluiceCluster, waitForFlowRuns, waitUntil } from "../cluster.js";
import { type BenchContext, formatCount, now } from "../context.js";
import { describePeaks, measurePeakRss } from "../memory.js";
import type { PeerRun } from "../peers.js";
import { median, round, VARIANT } from "../results.js";
import { exportsSince } from "../tracing.js";

/**
 * Tasks (jobs) run before timing, as many as a timed run: every worker has loaded the task, its
 * code is compiled and its heap has grown to size, so the first timed run is not the slow one.
 * A tenth was not enough for a process that traces: its first 20,000-run map after a warm-up of
 * 2,000 ran at 7,200-8,300/s where the maps after it ran at 9,000-10,500/s (`npm run bench:cpu --
 * --tracing`, its workers spending up to 40 µs more CPU per run), so W2's tracing overhead
 * measured that first map's warm-up more than tracing. Every system gets the same warm-up.
 */
const warmUpTasks = (ctx: BenchContext) => ctx.sizes.throughputTasks;

export async function throughputSluice(ctx: BenchContext, cluster: SluiceCluster): Promise<void> {
  const { throughputTasks: count, throughputRepeats: repeats } = ctx.sizes;
  const deployment = await cluster.deployment("Noop Map", "noop-map");
  // Warm-up: both workers load the task's module; then start from empty tables.
  const warmUp = await createFlowRun(cluster, deployment, { count: warmUpTasks(ctx) });
  await waitForFlowRuns(cluster, [warmUp], "the warm-up run");
  await cluster.truncateRuns();

  const pids = [cluster.server.pid, ...cluster.workers.map((worker) => worker.pid)];
  const exported = exportsSince(cluster.tracing);
  const { result, peaksMb, startsMb, sinceStart } = await measurePeakRss(pids, async () => {
    const timings: { recorded: number; inFlow: number; states: number }[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      if (repeat > 0) await cluster.truncateRuns();
      timings.push(await timeOneMap(ctx, cluster, deployment, (done) => (repeat + done) / repeats));
    }
    return { timings, exported: exported() };
  });
  const recorded = result.timings.map((timing) => timing.recorded);
  const inFlow = result.timings.map((timing) => timing.inFlow);
  const what = `${formatCount(count)} task runs, one .map() on 2 workers`;
  ctx.record({
    workload: "W2",
    system: "sluice",
    variant: cluster.variant(VARIANT.throughput),
    metric: "tasks_per_s",
    value: round(count / median(recorded)),
    notes: `${what}, create_flow_run → all recorded Completed in Postgres (${formatCount(result.timings[0]?.states ?? 0)} task run states; counted every 20-250 ms, at most 50 in the last tenth) in ${describeSeconds(recorded)}${result.exported}`,
  });
  ctx.record({
    workload: "W2",
    system: "sluice",
    variant: cluster.variant(VARIANT.throughputInFlow),
    metric: "tasks_per_s",
    value: round(count / median(inFlow)),
    notes: `${what}, create_flow_run → the flow run Completed (every result back in the flow) in ${describeSeconds(inFlow)}`,
  });
  const [server = Number.NaN, ...workers] = peaksMb;
  const [serverStart = Number.NaN, ...workerStarts] = startsMb;
  const peak = sinceStart ? "peak since start" : "peak during W2";
  ctx.record({
    workload: "memory",
    system: "sluice",
    variant: cluster.variant(VARIANT.workerW2),
    metric: "rss_mb",
    value: round(Math.max(...workers)),
    notes: `the larger of the 2 workers: ${describePeaks(workers, workerStarts)}, VmHWM ${peak}; the flow's worker holds ${formatCount(count)} task-run futures`,
  });
  ctx.record({
    workload: "memory",
    system: "sluice",
    variant: cluster.variant(VARIANT.serverW2),
    metric: "rss_mb",
    value: round(server),
    notes: `sluice server start (api + scheduler + recorder): ${describePeaks([server], [serverStart])}, VmHWM ${peak}`,
  });
}

/** One `.map()` of `count` no-op tasks: seconds until all are recorded, and until the flow run ends. */
async function timeOneMap(
  ctx: BenchContext,
  cluster: SluiceCluster,
  deployment: ApiDeployment,
  overall: (done: number) => number,
): Promise<{ recorded: number; inFlow: number; states: number }> {
  const count = ctx.sizes.throughputTasks;
  const sent = now();
  const id = await createFlowRun(cluster, deployment, { count });
  const poll = new CompletionPoll(count);
  await waitUntil(
    async () => {
      const { rows } = await cluster.pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND state_type = 'COMPLETED'",
        [id],
      );
      const n = rows[0]?.n ?? 0;
      poll.saw(n, now() - sent);
      ctx.progress.update(overall(n / count), `${formatCount(n)}/${formatCount(count)} task runs recorded`);
      return n === count;
    },
    "every task run recorded Completed",
    { alive: cluster.alive, everyMs: () => poll.nextDelayMs() },
  );
  const recorded = (now() - sent) / 1000;
  await waitForFlowRuns(cluster, [id], "the map's flow run");
  const { rows } = await cluster.pool.query<{ ms: number | null; states: number }>(
    `SELECT (SELECT ${epochMs("timestamp")} FROM flow_run_states WHERE flow_run_id = $1 AND type = 'COMPLETED') AS ms,
            (SELECT count(*)::int FROM task_run_states s JOIN task_runs t ON t.id = s.task_run_id
              WHERE t.flow_run_id = $1) AS states`,
    [id],
  );
  const inFlow = ((rows[0]?.ms ?? Number.NaN) - sent) / 1000;
  return { recorded, inFlow, states: rows[0]?.states ?? 0 };
}

/**
 * When to count again: a third of the time the rest should take at the rate so far, between 20
 * and 250 ms, and every 50 ms at most once nine tenths are recorded. Counting the recorded runs is
 * Postgres work on the machine under test (a count reads every row recorded so far): counting
 * every 50 ms throughout took about a fifth of Postgres's time in W2, which the peers, counting
 * their jobs in their own processes, never pay. The last tenth is counted as often as before, so
 * the end (the recorder commits the last runs all at once) is seen as soon.
 */
class CompletionPoll {
  private delayMs = 20;

  constructor(private readonly count: number) {}

  saw(done: number, elapsedMs: number): void {
    if (done === 0) {
      this.delayMs = 20;
      return;
    }
    const restMs = ((this.count - done) * elapsedMs) / done;
    this.delayMs = Math.min(done >= this.count * 0.9 ? 50 : 250, Math.max(20, restMs / 3));
  }

  nextDelayMs(): number {
    return this.delayMs;
  }
}

/** "1.93 s" for one timing; "1.93 s (median of 1.93, 2.10, 1.88 s)" for several. */
function describeSeconds(seconds: readonly number[]): string {
  const kept = `${median(seconds).toFixed(2)} s`;
  return seconds.length === 1 ? kept : `${kept} (median of ${seconds.map((s) => s.toFixed(2)).join(", ")} s)`;
}

export async function throughputPeer(ctx: BenchContext, peer: PeerRun): Promise<void> {
  const { throughputTasks: count, throughputRepeats: repeats } = ctx.sizes;
  const warmUpBase = peer.noopsDone();
  await peer.addNoops(warmUpTasks(ctx));
  await waitUntil(() => peer.noopsDone() >= warmUpBase + warmUpTasks(ctx), `${peer.system} warm-up`, {
    alive: peer.alive,
  });
  const {
    result: seconds,
    peaksMb,
    startsMb,
    sinceStart,
  } = await measurePeakRss(peer.pids(), async () => {
    const seconds: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat++) {
      // From empty queues and tables, as Sluice's runs start from empty tables.
      await peer.clearFinished();
      const base = peer.noopsDone();
      const sent = now();
      await peer.addNoops(count);
      await waitUntil(
        () => {
          const n = peer.noopsDone() - base;
          ctx.progress.update((repeat + n / count) / repeats, `${formatCount(n)}/${formatCount(count)} jobs`);
          return n >= count;
        },
        `${peer.system}: ${count} jobs`,
        { alive: peer.alive, everyMs: 20 },
      );
      seconds.push((peer.lastNoopAt() - sent) / 1000);
    }
    return seconds;
  });
  ctx.record({
    workload: "W2",
    system: peer.system,
    variant: VARIANT.throughput,
    metric: "tasks_per_s",
    value: round(count / median(seconds)),
    notes: `${formatCount(count)} no-op jobs, first enqueue → last job done in ${describeSeconds(seconds)}; ${peer.settings.description}`,
  });
  ctx.record({
    workload: "memory",
    system: peer.system,
    variant: VARIANT.workerW2,
    metric: "rss_mb",
    value: round(Math.max(...peaksMb)),
    notes: `the larger of the 2 worker processes: ${describePeaks(peaksMb, startsMb)}, VmHWM ${sinceStart ? "peak since start" : "peak during W2"}`,
  });
}
