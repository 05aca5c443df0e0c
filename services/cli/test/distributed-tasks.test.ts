/** Task runs submitted by a flow on one worker spread over every worker of the pool. */
import type pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { type SluiceProcess, startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";

let cluster: TestCluster;
let env: Record<string, string>;
let pool: pg.Pool;

beforeEach(async () => {
  cluster = await startTestCluster();
  ({ env, pool } = cluster);
});

afterEach(() => cluster.close());

/** Waits for the mapped flow run to finish; it must end Completed with the squares of 0…count-1, in order. */
async function expectSquaresCompleted(flowRunId: string, count: number): Promise<void> {
  const final = await waitFor(
    "the mapped run to finish",
    async () => {
      const current = await cluster.client.readFlowRun(flowRunId);
      return current.state_type === "COMPLETED" || current.state_type === "FAILED" ? current : undefined;
    },
    90_000,
  );
  expect(final.state_name).toBe("Completed");
  const { rows } = await pool.query<{ result: number[] }>("SELECT result FROM flow_runs WHERE id = $1", [flowRunId]);
  expect(rows[0]?.result).toEqual(Array.from({ length: count }, (_, i) => i * i));
}

it(".map() over 1,000 items with three worker processes: results in order, every worker ran some, full histories", async () => {
  const { client } = cluster;
  const workers = ["w1", "w2", "w3"].map((name) => {
    return cluster.worker(name, { flows: "services/cli/test/flows", taskLimit: 8 });
  });
  expect((await runSluice(["deploy", "services/cli/test/flows/deploy-mapped.ts"], env)).code).toBe(0);
  await waitFor("three workers", async () => (await client.filterWorkers("default-agent-pool")).length === 3);
  const deployment = await client.readDeploymentByName("Mapped Flow", "mapped");
  const run = await client.createFlowRunFromDeployment(deployment.id);

  await expectSquaresCompleted(run.id, 1000);

  await waitFor("every task run recorded Completed", async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND task_key = 'square' AND state_name = 'Completed'",
      [run.id],
    );
    return rows[0]?.n === 1000;
  });
  const { rows: histories } = await pool.query<{ names: string }>(
    `SELECT string_agg(s.name, ',' ORDER BY s.timestamp) AS names
     FROM task_runs t JOIN task_run_states s ON s.task_run_id = t.id
     WHERE t.flow_run_id = $1 GROUP BY t.id`,
    [run.id],
  );
  expect(histories).toHaveLength(1000);
  expect(new Set(histories.map((h) => h.names))).toEqual(new Set(["Pending,Running,Completed"]));
  const { rows: names } = await pool.query<{ n: number }>(
    "SELECT count(DISTINCT name)::int AS n FROM task_runs WHERE flow_run_id = $1",
    [run.id],
  );
  expect(names[0]?.n).toBe(1000); // square-0 … square-999, whichever worker ran them

  for (const worker of workers) {
    expect(
      (worker.output().match(/Task run 'square-\d+' - Finished in state Completed/g) ?? []).length,
    ).toBeGreaterThan(0);
  }
}, 150_000);

it("cancelling a flow with 100 queued task runs: Cancelled within a second or so, no queued task starts afterwards", async () => {
  const { client } = cluster;
  for (const name of ["w1", "w2"]) {
    cluster.worker(name, { flows: "services/cli/test/flows", taskLimit: 2 });
  }
  expect((await runSluice(["deploy", "services/cli/test/flows/deploy-mapped.ts"], env)).code).toBe(0);
  await waitFor("two workers", async () => (await client.filterWorkers("default-agent-pool")).length === 2);
  const deployment = await client.readDeploymentByName("Fanout Flow", "fanout");
  const run = await client.createFlowRunFromDeployment(deployment.id);
  await waitFor("task runs running", async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND state_name = 'Running'",
      [run.id],
    );
    return (rows[0]?.n ?? 0) > 0;
  });
  const cancelledAt = Date.now();
  expect((await runSluice(["flow-run", "cancel", run.id], env)).code).toBe(0);
  // The CLI has announced the cancellation by the time it exits.
  const announcedBy = Date.now();
  await waitFor(
    "the flow run Cancelled",
    async () => (await client.readFlowRun(run.id)).state_type === "CANCELLED",
    10_000,
  );
  const tookMs = Date.now() - cancelledAt;
  expect(tookMs).toBeLessThan(5000); // the CLI's own start-up is most of it

  // Let the queued task runs drain: every one ends Cancelled, or Completed if it was already running.
  await waitFor(
    "every task run finished",
    async () => {
      const { rows } = await pool.query<{ open: number; total: number }>(
        `SELECT count(*) FILTER (WHERE state_type NOT IN ('COMPLETED', 'CANCELLED', 'FAILED'))::int AS open,
                count(*)::int AS total FROM task_runs WHERE flow_run_id = $1`,
        [run.id],
      );
      return rows[0]?.open === 0 && (rows[0]?.total ?? 0) > 0;
    },
    30_000,
  );
  const { rows: late } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_run_states s JOIN task_runs t ON t.id = s.task_run_id
     WHERE t.flow_run_id = $1 AND s.name = 'Running' AND s.timestamp > $2`,
    [run.id, new Date(announcedBy + 1000)],
  );
  expect(late[0]?.n).toBe(0);
}, 90_000);

it("SIGKILL a worker in the middle of a mapped run: every task run ends Completed on the others, none stuck Running", async () => {
  const { client } = cluster;
  const workers = ["w1", "w2", "w3"].map((name) => {
    return cluster.worker(name, { flows: "services/cli/test/flows", taskLimit: 4 });
  });
  expect((await runSluice(["deploy", "services/cli/test/flows/deploy-mapped.ts"], env)).code).toBe(0);
  await waitFor("three workers", async () => (await client.filterWorkers("default-agent-pool")).length === 3);
  const deployment = await client.readDeploymentByName("Mapped Flow", "mapped");
  const run = await client.createFlowRunFromDeployment(deployment.id, { parameters: { count: 600 } });
  await waitFor("some task runs done", async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM task_runs WHERE flow_run_id = $1 AND state_name = 'Completed'",
      [run.id],
    );
    return (rows[0]?.n ?? 0) >= 50;
  });
  // Kill a worker that is not running the flow itself, while it holds task runs.
  const victim = workers.find((worker) => !worker.output().includes("Beginning flow run")) as SluiceProcess;
  await victim.stop("SIGKILL");

  await expectSquaresCompleted(run.id, 600);
  await waitFor("every task run recorded Completed", async () => {
    const { rows } = await pool.query<{ open: number; done: number }>(
      `SELECT count(*) FILTER (WHERE state_name <> 'Completed')::int AS open,
              count(*) FILTER (WHERE state_name = 'Completed')::int AS done
       FROM task_runs WHERE flow_run_id = $1`,
      [run.id],
    );
    return rows[0]?.open === 0 && rows[0]?.done === 600;
  });
}, 150_000);
