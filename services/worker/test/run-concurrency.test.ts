/** Deployment and work queue concurrency limits on flow-run workers: slots as Redis leases, waiting runs off the workers. */
import { randomUUID } from "node:crypto";
import { type FlowRunJob, setWorkQueueLimit } from "@sluice/queue";
import { expect, it } from "vitest";
import { flowRunJob, POOL, useWorkerHarness } from "./worker-harness.js";

const harness = useWorkerHarness();
const deploymentId = randomUUID();

function job(sleepMs: number, limited = true, workQueueName: string | null = null): FlowRunJob {
  return flowRunJob({
    deploymentId: limited ? deploymentId : null,
    parameters: { sleepMs },
    workQueueName,
    ...(limited ? { deploymentConcurrency: { limit: 1, collisionStrategy: "ENQUEUE" as const } } : {}),
  });
}

interface RunRow {
  state_name: string | null;
  start_time: Date | null;
  end_time: Date | null;
}

async function waitForState(id: string, name: string, timeoutMs = 15_000): Promise<RunRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await harness.database.pool.query<RunRow>(
      "SELECT state_name, start_time, end_time FROM flow_runs WHERE id = $1",
      [id],
    );
    if (rows[0]?.state_name === name) return rows[0];
    if (Date.now() > deadline) throw new Error(`run ${id} not ${name} in time: ${JSON.stringify(rows[0])}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function historyOf(id: string): Promise<string[]> {
  const { rows } = await harness.database.pool.query<{ name: string }>(
    "SELECT name FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
    [id],
  );
  return rows.map((row) => row.name);
}

it("a run waiting for its deployment's slot gives its worker slot back and starts when the slot frees", async () => {
  await harness.startFlowRunWorker("w1", 2);
  const first = job(1_000);
  await harness.queues.enqueue(first);
  await waitForState(first.flowRunId, "Running");
  const second = job(0);
  await harness.queues.enqueue(second);
  await waitForState(second.flowRunId, "AwaitingConcurrencySlot");
  // The worker has two slots: the waiting run holds none, so a run of another deployment starts now.
  const other = job(0, false);
  await harness.queues.enqueue(other);
  const otherRow = await waitForState(other.flowRunId, "Completed");

  const firstRow = await waitForState(first.flowRunId, "Completed");
  expect(otherRow.end_time?.getTime()).toBeLessThan(firstRow.end_time?.getTime() ?? 0);
  // Woken by the release, not by its fallback delay (about 20 s here, the lease's remaining life).
  const secondRow = await waitForState(second.flowRunId, "Completed", 10_000);
  expect(secondRow.start_time?.getTime()).toBeGreaterThanOrEqual(firstRow.end_time?.getTime() ?? Infinity);
  expect(await historyOf(second.flowRunId)).toEqual(["AwaitingConcurrencySlot", "Pending", "Running", "Completed"]);
  expect(await historyOf(first.flowRunId)).toEqual(["Pending", "Running", "Completed"]);
  // The slot is free again and nobody is left waiting.
  expect(await harness.ctx.redis.zcard(harness.keys.leaseSlots(`deployment:${deploymentId}`))).toBe(0);
  expect(await harness.ctx.redis.zcard(harness.keys.leaseWaiters(`deployment:${deploymentId}`))).toBe(0);
});

it("a slot held by a worker that died frees when its lease expires, and the waiting run starts", async () => {
  const expiresAt = Date.now() + 1_500;
  // A lease nobody renews any more: its holder's worker was killed.
  await harness.ctx.redis.zadd(
    harness.keys.leaseSlots(`deployment:${deploymentId}`),
    expiresAt,
    "run-of-a-dead-worker",
  );
  await harness.startFlowRunWorker("w1", 1);
  const waiting = job(0);
  await harness.queues.enqueue(waiting);
  await waitForState(waiting.flowRunId, "AwaitingConcurrencySlot");
  const row = await waitForState(waiting.flowRunId, "Completed", 15_000);
  expect(row.start_time?.getTime()).toBeGreaterThanOrEqual(expiresAt);
  expect(await historyOf(waiting.flowRunId)).toEqual(["AwaitingConcurrencySlot", "Pending", "Running", "Completed"]);
});

it("a work queue's limit holds across two workers; a limit set while they run applies at once", async () => {
  await harness.startFlowRunWorker("w1", 3);
  await harness.startFlowRunWorker("w2", 3);
  // Set after the workers started: they hear of it through Redis, without a restart.
  await setWorkQueueLimit(harness.ctx.redis, harness.keys, POOL, "etl", 1);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const runs = [job(300, false, "etl"), job(300, false, "etl"), job(300, false, "etl")];
  await Promise.all(runs.map((run) => harness.queues.enqueue(run)));
  const rows = [];
  for (const run of runs) rows.push(await waitForState(run.flowRunId, "Completed"));
  rows.sort((a, b) => (a.start_time?.getTime() ?? 0) - (b.start_time?.getTime() ?? 0));
  for (let i = 1; i < rows.length; i++) {
    expect(rows[i]?.start_time?.getTime()).toBeGreaterThanOrEqual(rows[i - 1]?.end_time?.getTime() ?? Infinity);
  }
  const waited = [];
  for (const run of runs) {
    const { rows: states } = await harness.database.pool.query<{ message: string | null }>(
      "SELECT message FROM flow_run_states WHERE flow_run_id = $1 AND name = 'AwaitingConcurrencySlot'",
      [run.flowRunId],
    );
    waited.push(...states.map((state) => state.message));
  }
  expect(waited.length).toBeGreaterThanOrEqual(1);
  for (const message of waited) expect(message).toMatch(/Work queue 'etl' concurrency limit of 1 reached/);
  // Runs of the pool's other queues are not limited by it.
  const other = job(0, false, "default");
  await harness.queues.enqueue(other);
  await waitForState(other.flowRunId, "Completed");
  expect(await historyOf(other.flowRunId)).toEqual(["Pending", "Running", "Completed"]);
});
