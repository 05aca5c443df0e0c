/**
 * The README's cluster commands as a user runs them: a server, workers, a deploy script, and
 * `deployment run --watch`, each a real `sluice` process on this test's own database and prefix.
 */
import type { SluiceClient } from "@sluice/client";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { type SluiceProcess, startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";

let cluster: TestCluster;
let env: Record<string, string>;
let client: SluiceClient;
let pool: pg.Pool;

beforeEach(async () => {
  cluster = await startTestCluster();
  ({ env, pool, client } = cluster);
});

afterEach(() => cluster.close());

function startWorker(name: string, limit = 4): SluiceProcess {
  return cluster.worker(name, { limit });
}

async function runStates(ids: string[]): Promise<string[]> {
  const { rows } = await pool.query<{ state_name: string }>("SELECT state_name FROM flow_runs WHERE id = ANY($1)", [
    ids,
  ]);
  return rows.map((row) => row.state_name);
}

describe("server, workers and deployments", () => {
  it("deploy + `deployment run --watch` ends Completed with the ETL rows loaded", async () => {
    startWorker("w1");
    const deployed = await runSluice(["deploy", "examples/flows/deploy.ts"], env);
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toContain("Deployment 'ETL Pipeline/daily-etl' registered");

    const watched = await runSluice(["deployment", "run", "ETL Pipeline/daily-etl", "--watch"], env);
    expect(watched.stderr).toBe("");
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/is Scheduled/);
    expect(watched.stdout).toMatch(/is Completed/);
    expect((await pool.query("SELECT count(*)::int AS n FROM users")).rows[0]).toEqual({ n: 10 });

    const listed = await runSluice(["deployment", "ls"], env);
    expect(listed.stdout).toContain("ETL Pipeline/daily-etl");
    expect(listed.stdout).toContain("0 6 * * * (UTC)");

    const paused = await runSluice(["deployment", "pause", "ETL Pipeline/daily-etl"], env);
    expect(paused.code).toBe(0);
    expect((await client.readDeploymentByName("ETL Pipeline", "daily-etl")).paused).toBe(true);
    await runSluice(["deployment", "resume", "ETL Pipeline/daily-etl"], env);
    const inspected = await runSluice(["deployment", "inspect", "ETL Pipeline/daily-etl"], env);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      name: "daily-etl",
      paused: false,
      entrypoint: "etl_pipeline.ts:etlPipeline",
    });

    const pools = await runSluice(["work-pool", "inspect", "default-agent-pool"], env);
    expect(pools.code).toBe(0);
    expect(pools.stdout).toMatch(/w1\s+ONLINE/);
    expect(pools.stdout).toContain("1 worker(s) online");
    expect(pools.stdout).toMatch(/flow runs: 0 waiting, 0 running, \d+ scheduled, 0 failed/);
  }, 60_000);

  it("two worker processes share the load of 50 runs", async () => {
    const first = startWorker("w1", 3);
    const second = startWorker("w2", 3);
    await runSluice(["deploy", "examples/flows/deploy.ts"], env);
    const deployment = await client.readDeploymentByName("Full Data Pipeline", "multi-stage");
    await waitFor("both workers", async () => (await client.filterWorkers("default-agent-pool")).length === 2);
    const runs = await Promise.all(Array.from({ length: 50 }, () => client.createFlowRunFromDeployment(deployment.id)));
    const ids = runs.map((run) => run.id);
    const terminal = new Set(["Completed", "Failed", "Crashed", "Cancelled", "TimedOut"]);
    const states = await waitFor(
      "50 runs finished",
      async () => {
        const current = await runStates(ids);
        return current.length === 50 && current.every((state) => terminal.has(state)) ? current : undefined;
      },
      80_000,
    );
    expect(states.filter((state) => state !== "Completed")).toEqual([]);
    // Each worker logs the runs it takes; both must have taken some.
    const ranBy = (worker: SluiceProcess) =>
      (worker.output().match(/Flow run '[^']+' - Beginning flow run/g) ?? []).length;
    expect(ranBy(first)).toBeGreaterThan(0);
    expect(ranBy(second)).toBeGreaterThan(0);
  }, 120_000);

  it("SIGTERM to a worker mid-run: the run still ends Completed and the worker exits 0", async () => {
    const worker = cluster.worker("w1", { flows: "services/cli/test/flows" });
    expect((await runSluice(["deploy", "services/cli/test/flows/deploy.ts"], env)).code).toBe(0);
    const deployment = await client.readDeploymentByName("Slow Flow", "slow");
    // Long enough to be seen Running even when the recorder lags on a busy machine.
    const run = await client.createFlowRunFromDeployment(deployment.id, { parameters: { ms: 4000 } });
    await waitFor("the run to start", async () => (await runStates([run.id]))[0] === "Running", 60_000);
    expect(await worker.stop("SIGTERM")).toBe(0);
    expect(worker.output()).toContain("finishing running flow runs");
    await waitFor("the run Completed", async () => (await runStates([run.id]))[0] === "Completed");
  });

  it("flow-run cancel stops a queued run; flow-run retry runs a finished one again", async () => {
    startWorker("w1");
    await runSluice(["deploy", "examples/flows/deploy.ts"], env);
    const deployment = await client.readDeploymentByName("Full Data Pipeline", "multi-stage");
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const queued = await client.createFlowRunFromDeployment(deployment.id, {
      state: { type: "SCHEDULED", state_details: { scheduled_time: later } },
    });
    const cancelled = await runSluice(["flow-run", "cancel", queued.id], env);
    expect(cancelled.code).toBe(0);
    expect((await client.readFlowRun(queued.id)).state_type).toBe("CANCELLED");

    const done = await client.createFlowRunFromDeployment(deployment.id);
    await waitFor("the run Completed", async () => (await runStates([done.id]))[0] === "Completed");
    const retried = await runSluice(["flow-run", "retry", done.id], env);
    expect(retried.stderr).toBe("");
    expect(retried.code).toBe(0);
    await waitFor("the retried run Completed again", async () => {
      const run = await client.readFlowRun(done.id);
      return run.state_type === "COMPLETED" && run.run_count === 2;
    });
  });

  it("an unknown deployment name is a clear error with a non-zero exit", async () => {
    const result = await runSluice(["deployment", "run", "Nope/nothing"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Deployment not found|404/);
  });
});
