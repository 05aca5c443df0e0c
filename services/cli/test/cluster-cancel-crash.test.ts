/**
 * Cancelling running flow runs and recovering the runs of a worker that died, with a real server
 * and real worker processes: `flow-run cancel` through the CLI, SIGKILL to a worker mid-run.
 */
import type { SluiceClient } from "@sluice/client";
import type pg from "pg";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { type SluiceProcess, startSluice, startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";

let cluster: TestCluster;
let env: Record<string, string>;
let client: SluiceClient;
let pool: pg.Pool;

beforeEach(async () => {
  cluster = await startTestCluster();
  ({ env, pool, client } = cluster);
});

afterEach(() => cluster.close());

async function startWorker(name: string, extraEnv: Record<string, string> = {}): Promise<SluiceProcess> {
  const worker = cluster.worker(name, { flows: "services/cli/test/flows", env: extraEnv });
  await waitFor(`worker ${name} started`, async () => worker.output().includes(`Worker '${name}' started`));
  return worker;
}

async function deployTestFlows(): Promise<void> {
  const deployed = await runSluice(["deploy", "services/cli/test/flows/deploy.ts"], env);
  expect(deployed.stderr).toBe("");
  expect(deployed.code).toBe(0);
}

async function createRun(flowName: string, deploymentName: string, parameters: Record<string, unknown>) {
  const deployment = await client.readDeploymentByName(flowName, deploymentName);
  return client.createFlowRunFromDeployment(deployment.id, { parameters });
}

async function stateOf(id: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ state_name: string }>("SELECT state_name FROM flow_runs WHERE id = $1", [id]);
  return rows[0]?.state_name;
}

async function historyOf(id: string): Promise<{ name: string; message: string | null; timestamp: Date }[]> {
  const { rows } = await pool.query<{ name: string; message: string | null; timestamp: Date }>(
    "SELECT name, message, timestamp FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
    [id],
  );
  return rows;
}

async function taskRunStates(flowRunId: string): Promise<string[]> {
  const { rows } = await pool.query<{ state_name: string }>("SELECT state_name FROM task_runs WHERE flow_run_id = $1", [
    flowRunId,
  ]);
  return rows.map((row) => row.state_name);
}

describe("cancelling running flow runs", () => {
  it("a flow `sluice run` runs in cluster mode stops when cancelled: the command exits 1, the run ends Cancelled", async () => {
    const running = startSluice(["run", "services/cli/test/flows/cancellable.ts:cancellableFlow"], env);
    onTestFinished(() => running.stop().then(() => {}));
    const id = await waitFor("the run and its task run Running", async () => {
      const { rows } = await pool.query<{ id: string }>(
        `SELECT fr.id FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id
         WHERE f.name = 'Cancellable Flow' AND fr.state_name = 'Running'`,
      );
      const found = rows[0]?.id;
      return found && (await taskRunStates(found)).includes("Running") && found;
    });

    const cancelled = await runSluice(["flow-run", "cancel", id], env);
    expect(cancelled.stderr).toBe("");
    expect(cancelled.code).toBe(0);
    const requested = Date.now();
    // The flow would nap a minute: it stopped on its signal.
    expect(await running.exited).toBe(1);
    expect(Date.now() - requested).toBeLessThan(10_000);
    await waitFor("the run Cancelled", async () => (await stateOf(id)) === "Cancelled", 10_000);
    expect(await taskRunStates(id)).toEqual(["Cancelled"]);
    expect((await historyOf(id)).map((state) => state.name)).toEqual(["Pending", "Running", "Cancelling", "Cancelled"]);
  });

  it("`flow-run cancel` stops a running flow and its running task run: both end Cancelled", async () => {
    await startWorker("w1");
    await deployTestFlows();
    const run = await createRun("Cancellable Flow", "cancellable", { ms: 60_000 });
    await waitFor("the task run Running", async () => (await taskRunStates(run.id)).includes("Running"));

    const cancelled = await runSluice(["flow-run", "cancel", run.id], env);
    expect(cancelled.stderr).toBe("");
    expect(cancelled.code).toBe(0);
    const requested = Date.now();
    await waitFor("the run Cancelled", async () => (await stateOf(run.id)) === "Cancelled", 10_000);
    // Well within the 10 s grace: the task stopped on its signal and the flow with it.
    expect(Date.now() - requested).toBeLessThan(5_000);
    expect(await taskRunStates(run.id)).toEqual(["Cancelled"]);
    expect((await historyOf(run.id)).map((state) => state.name)).toEqual([
      "Scheduled",
      "Pending",
      "Running",
      "Cancelling",
      "Cancelled",
    ]);
  });

  it("`flow-run cancel` aborts the flow's queued task runs where they run: each ends Cancelled", async () => {
    await startWorker("w1");
    await deployTestFlows();
    const run = await createRun("Cancellable Queued Flow", "cancellable-queued", { ms: 60_000 });
    await waitFor("both task runs Running", async () => {
      const states = await taskRunStates(run.id);
      return states.length === 2 && states.every((state) => state === "Running");
    });

    const cancelled = await runSluice(["flow-run", "cancel", run.id], env);
    expect(cancelled.code).toBe(0);
    const requested = Date.now();
    await waitFor(
      "the task runs Cancelled",
      async () => {
        const states = await taskRunStates(run.id);
        return states.every((state) => state === "Cancelled");
      },
      10_000,
    );
    // The runs' shared signal fired at once: they did not sleep on, nor wait for the grace period.
    expect(Date.now() - requested).toBeLessThan(5_000);
    await waitFor("the run Cancelled", async () => (await stateOf(run.id)) === "Cancelled", 10_000);
  });

  it("a flow that ignores its signal is abandoned after the grace period and recorded Cancelled", async () => {
    await startWorker("w1", { SLUICE_CANCEL_GRACE_SECONDS: "1" });
    await deployTestFlows();
    const run = await createRun("Stubborn Flow", "stubborn", { ms: 60_000 });
    await waitFor("the run Running", async () => (await stateOf(run.id)) === "Running");

    // Measured from before the request: the cancellation is announced after this, so the grace starts after it too.
    const requested = Date.now();
    expect((await runSluice(["flow-run", "cancel", run.id], env)).code).toBe(0);
    await waitFor("the run Cancelled", async () => (await stateOf(run.id)) === "Cancelled", 15_000);
    expect(Date.now() - requested).toBeGreaterThanOrEqual(900);
    const last = (await historyOf(run.id)).at(-1);
    expect(last?.message).toMatch(/did not stop within 1s: abandoned/);

    // The job slot is free: the next run of the pool goes through on the same worker.
    const next = await createRun("Slow Flow", "slow", { ms: 10 });
    await waitFor("the next run Completed", async () => (await stateOf(next.id)) === "Completed");
  });
});

describe("deleting running flow runs", () => {
  it("DELETE /flow_runs/{id} of a running run stops it where it runs: the worker's only slot frees at once", async () => {
    const worker = cluster.worker("w1", { flows: "services/cli/test/flows", limit: 1 });
    await waitFor("worker w1 started", async () => worker.output().includes("Worker 'w1' started"));
    await deployTestFlows();
    const run = await createRun("Cancellable Flow", "cancellable", { ms: 60_000 });
    await waitFor("the task run Running", async () => (await taskRunStates(run.id)).includes("Running"));

    const requested = Date.now();
    const deleted = await fetch(`${env.SLUICE_API_URL}/flow_runs/${run.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    // Left running, the deleted run would hold the slot for its whole minute.
    const next = await createRun("Slow Flow", "slow", { ms: 10 });
    await waitFor("the next run Completed", async () => (await stateOf(next.id)) === "Completed", 15_000);
    expect(Date.now() - requested).toBeLessThan(8_000);
    expect(await stateOf(run.id)).toBeUndefined();
    expect(await taskRunStates(run.id)).toEqual([]);
  });
});

describe("crash recovery", () => {
  it("SIGKILL to a worker mid-run: a flow with retries completes on another worker, one without ends Crashed", async () => {
    const doomed = await startWorker("doomed");
    await deployTestFlows();
    const retried = await createRun("Retried Slow Flow", "retried", { ms: 3_000 });
    const single = await createRun("Slow Flow", "slow", { ms: 60_000 });
    await waitFor(
      "both runs Running on the doomed worker",
      async () => (await stateOf(retried.id)) === "Running" && (await stateOf(single.id)) === "Running",
    );
    await startWorker("survivor");
    await doomed.stop("SIGKILL");
    const killedAt = Date.now();

    await waitFor("the retried run Completed", async () => (await stateOf(retried.id)) === "Completed", 45_000);
    await waitFor("the other run Crashed", async () => (await stateOf(single.id)) === "Crashed", 15_000);

    const retriedHistory = await historyOf(retried.id);
    expect(retriedHistory.map((state) => state.name)).toEqual([
      "Scheduled",
      "Pending",
      "Running",
      "Crashed",
      "AwaitingRetry",
      "Retrying",
      "Completed",
    ]);
    const crashed = retriedHistory.find((state) => state.name === "Crashed");
    expect(crashed?.message).toMatch(/Worker 'doomed' stopped while running the flow run/);
    const detectionMs = (crashed?.timestamp.getTime() ?? 0) - killedAt;
    // The worker's lock (10 s) and stalled check (5 s) bound detection at about 15 s.
    expect(detectionMs).toBeLessThan(20_000);
    process.stdout.write(`crash detected ${detectionMs} ms after SIGKILL\n`);
    expect((await client.readFlowRun(retried.id)).run_count).toBe(2);

    const singleHistory = await historyOf(single.id);
    expect(singleHistory.map((state) => state.name)).toEqual(["Scheduled", "Pending", "Running", "Crashed"]);
    expect(singleHistory.at(-1)?.message).toMatch(/Worker 'doomed' .*no retries left/);
  }, 90_000);
});
