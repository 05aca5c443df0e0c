/**
 * In-process workers and the cancellation channel and crash markers they share through Redis:
 * a run cancelled before a worker started it, a cancelled run whose body ignores its signal, and
 * a redelivered run whose previous worker died.
 */
import { FlowRunCancellation } from "@sluice/queue";
import { beforeEach, describe, expect, it } from "vitest";
import { flowRunJob, useWorkerHarness } from "./worker-harness.js";

const harness = useWorkerHarness();
let cancellation: FlowRunCancellation;

beforeEach(() => {
  cancellation = new FlowRunCancellation(harness.ctx.redis, harness.keys);
});

function startWorker(name: string) {
  return harness.startFlowRunWorker(name, 1, { cancelGraceMs: 200 });
}

function job(parameters: Record<string, unknown> = {}) {
  return flowRunJob({ parameters });
}

async function history(id: string): Promise<{ name: string; message: string | null }[]> {
  const { rows } = await harness.database.pool.query<{ name: string; message: string | null }>(
    "SELECT name, message FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
    [id],
  );
  return rows;
}

async function waitForState(id: string, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await harness.database.pool.query<{ state_name: string }>(
      "SELECT state_name FROM flow_runs WHERE id = $1",
      [id],
    );
    if (rows[0]?.state_name === name) return;
    if (Date.now() > deadline) throw new Error(`run ${id} not ${name} in time: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("cancellation on workers", () => {
  it("a run cancelled before the worker took it is recorded Cancelled without running", async () => {
    const run = job();
    await cancellation.announce(run.flowRunId);
    await startWorker("w1");
    await harness.queues.enqueue(run);
    await waitForState(run.flowRunId, "Cancelled");
    expect(await history(run.flowRunId)).toEqual([
      { name: "Cancelled", message: "Cancelled before a worker started it" },
    ]);
    const { rows } = await harness.database.pool.query("SELECT 1 FROM task_runs WHERE flow_run_id = $1", [
      run.flowRunId,
    ]);
    expect(rows).toEqual([]);
  });

  it("a running body that ignores its signal is abandoned after the grace period; the slot is freed", async () => {
    const worker = await startWorker("w1");
    const run = job({ sleepMs: 10_000 });
    await harness.queues.enqueue(run);
    await waitForState(run.flowRunId, "Running");
    await cancellation.announce(run.flowRunId);
    await waitForState(run.flowRunId, "Cancelled");
    expect((await history(run.flowRunId)).at(-1)?.message).toMatch(/did not stop within 0.2s: abandoned/);
    // limit 1: the next run can only go through if the abandoned one gave its slot back
    const next = job();
    await harness.queues.enqueue(next);
    await waitForState(next.flowRunId, "Completed");
    expect(worker.runsFinished).toBe(2);
  });
});

describe("crash recovery on workers", () => {
  it("a redelivered run whose worker died, with no retries, is recorded Crashed and not run again", async () => {
    const run = job();
    // What a worker that died mid-run leaves behind: its holder marker.
    await harness.ctx.redis.set(
      harness.keys.flowRunHolder(run.flowRunId),
      JSON.stringify({ worker: "ghost", crashes: 0 }),
    );
    await startWorker("w1");
    await harness.queues.enqueue(run);
    await waitForState(run.flowRunId, "Crashed");
    const states = await history(run.flowRunId);
    expect(states.map((state) => state.name)).toEqual(["Crashed"]);
    expect(states[0]?.message).toMatch(/Worker 'ghost' stopped while running the flow run .*no retries left/);
    expect(await harness.ctx.redis.exists(harness.keys.flowRunHolder(run.flowRunId))).toBe(0);
  });
});
