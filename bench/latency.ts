/**
 * Latency from `POST /api/deployments/{id}/create_flow_run` to the run being Running and
 * Completed, for a no-op flow, with a real server and worker process on this machine.
 *
 *   npm run bench:latency -- [runs=100] [perSecond=20]
 */
import pg from "pg";
import { benchCluster, waitUntil } from "./cluster.js";

const runs = Number(process.argv[2] ?? 100);
const perSecond = Number(process.argv[3] ?? 20);
const cluster = await benchCluster();
const { client } = cluster;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const pool = new pg.Pool({ connectionString: cluster.databaseUrl, max: 2 });
try {
  cluster.sluice(["server", "start"]);
  await waitUntil(() => client.health(), "the API");
  cluster.sluice(["worker", "start", "--pool", "bench-pool", "--flows", "bench/flows", "--limit", "50"]);
  await cluster.deploy("bench/flows/deploy.ts");
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
  await pool.end();
  await cluster.cleanUp();
}
