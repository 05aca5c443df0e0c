/**
 * W1 chain: a flow of 40 sequential tasks each sleeping 10 ms, started through the API, timed
 * from `create_flow_run` to Completed; once with inline tasks, once with every task `.submit()`ted
 * to the task queue. The peers run the same chain as 40 jobs, each enqueueing the next from its
 * handler, timed from the first enqueue to the end of the last job. One short untimed warm-up run
 * each (workers load the flow's module), then the median of `chainRepeats` runs.
 */
import { createFlowRun, epochMs, type SluiceCluster, waitForFlowRuns, waitUntil } from "../cluster.js";
import { type BenchContext, now } from "../context.js";
import type { PeerRun } from "../peers.js";
import { median, round, VARIANT } from "../results.js";

/** Steps of the untimed warm-up chain: enough for the queued tasks to reach both workers. */
const WARM_UP_LENGTH = 6;

const describe = (seconds: number[], what: string) =>
  `median of ${seconds.length} (${seconds.map((s) => s.toFixed(3)).join(", ")} s); ${what}`;

export async function chainSluice(ctx: BenchContext, cluster: SluiceCluster): Promise<void> {
  const { chainLength: length, chainTaskMs: taskMs, chainRepeats: repeats } = ctx.sizes;
  const variants = [
    { variant: VARIANT.chainInline, flow: "Chain Inline", deployment: "chain-inline", how: "inline tasks" },
    { variant: VARIANT.chainQueued, flow: "Chain Queued", deployment: "chain-queued", how: "every task .submit()ted" },
  ];
  let done = 0;
  for (const { variant, flow, deployment: name, how } of variants) {
    const deployment = await cluster.deployment(flow, name);
    const seconds: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const sent = now();
      const id = await createFlowRun(cluster, deployment, { length: i === 0 ? WARM_UP_LENGTH : length, taskMs });
      await waitForFlowRuns(cluster, [id], `chain run ${id}`, undefined, 10);
      const { rows } = await cluster.pool.query<{ ms: number }>(
        `SELECT ${epochMs("timestamp")} AS ms FROM flow_run_states WHERE flow_run_id = $1 AND type = 'COMPLETED'`,
        [id],
      );
      const completed = rows[0]?.ms ?? Number.NaN;
      if (i > 0) seconds.push((completed - sent) / 1000);
      ctx.progress.update(++done / (variants.length * (repeats + 1)), `${how}, run ${i}/${repeats}`);
    }
    ctx.record({
      workload: "W1",
      system: "sluice",
      variant,
      metric: "seconds",
      value: round(median(seconds)),
      notes: describe(seconds, `${length} tasks × ${taskMs} ms, ${how}, create_flow_run → Completed`),
    });
  }
}

export async function chainPeer(ctx: BenchContext, peer: PeerRun): Promise<void> {
  const { chainLength: length, chainRepeats: repeats, chainTaskMs: taskMs } = ctx.sizes;
  const seconds: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const sent = await peer.startChain(i, i === 0 ? WARM_UP_LENGTH : length);
    await waitUntil(() => peer.chainDoneAt(i) !== undefined, `${peer.system} chain ${i}`, {
      alive: peer.alive,
      everyMs: 5,
      timeoutMs: 300_000,
    });
    if (i > 0) seconds.push(((peer.chainDoneAt(i) as number) - sent) / 1000);
    ctx.progress.update((i + 1) / (repeats + 1), `run ${i}/${repeats}`);
  }
  ctx.record({
    workload: "W1",
    system: peer.system,
    variant: VARIANT.chainQueued,
    metric: "seconds",
    value: round(median(seconds)),
    notes: describe(
      seconds,
      `${length} jobs × ${taskMs} ms, each enqueued by the one before; ${peer.settings.description}`,
    ),
  });
}
