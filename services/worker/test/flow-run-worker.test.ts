import { describe, expect, it } from "vitest";
import { flowRunJob as job, useWorkerHarness } from "./worker-harness.js";

const harness = useWorkerHarness();

async function waitForStates(ids: string[], done: (state: string | null) => boolean, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await harness.database.pool.query<{ id: string; state_name: string | null }>(
      "SELECT id, state_name FROM flow_runs WHERE id = ANY($1)",
      [ids],
    );
    if (rows.length === ids.length && rows.every((row) => done(row.state_name))) return rows;
    if (Date.now() > deadline) throw new Error(`runs not done in time: ${JSON.stringify(rows)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("flow-run workers", () => {
  it("two workers share a pool's runs, each run Completed with its result and logs", async () => {
    const first = await harness.startFlowRunWorker("w1", 2);
    const second = await harness.startFlowRunWorker("w2", 2);
    const jobs = Array.from({ length: 20 }, (_, i) => job({ parameters: { who: `n${i}`, sleepMs: 30 } }));
    await Promise.all(jobs.map((j) => harness.queues.enqueue(j)));
    await waitForStates(
      jobs.map((j) => j.flowRunId),
      (state) => state === "Completed",
    );
    expect(first.runsFinished).toBeGreaterThan(0);
    expect(second.runsFinished).toBeGreaterThan(0);
    expect(first.runsFinished + second.runsFinished).toBe(20);
    const { rows } = await harness.database.pool.query("SELECT result, parameters FROM flow_runs WHERE id = $1", [
      jobs[0]?.flowRunId,
    ]);
    expect(rows[0]).toMatchObject({ result: "HELLO N0", parameters: { who: "n0", sleepMs: 30 } });
  });

  it("a run whose entrypoint cannot be loaded ends Failed, saying why", async () => {
    await harness.startFlowRunWorker("w1", 2);
    const broken = job({ entrypoint: "missing.ts:nothing" });
    await harness.queues.enqueue(broken);
    const [row] = await waitForStates([broken.flowRunId], (state) => state === "Failed");
    expect(row?.state_name).toBe("Failed");
    const { rows } = await harness.database.pool.query("SELECT state_message FROM flow_runs WHERE id = $1", [
      broken.flowRunId,
    ]);
    expect(rows[0]?.state_message).toContain("No such file: missing.ts");
  });

  it("an entrypoint outside the flows directory is refused", async () => {
    await harness.startFlowRunWorker("w1", 2);
    const escaping = job({ entrypoint: "../../../../etc/passwd:x" });
    await harness.queues.enqueue(escaping);
    await waitForStates([escaping.flowRunId], (state) => state === "Failed");
  });

  it("a delayed (scheduled) run waits for its time", async () => {
    await harness.startFlowRunWorker("w1", 2);
    const later = job({ scheduledTime: new Date(Date.now() + 400).toISOString() });
    await harness.queues.enqueue(later);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(
      (await harness.database.pool.query("SELECT id FROM flow_runs WHERE id = $1", [later.flowRunId])).rows,
    ).toEqual([]);
    await waitForStates([later.flowRunId], (state) => state === "Completed");
  });

  it("stop() lets running flow runs finish", async () => {
    const worker = await harness.startFlowRunWorker("w1", 2);
    const slow = job({ parameters: { sleepMs: 500 } });
    await harness.queues.enqueue(slow);
    await waitForStates([slow.flowRunId], (state) => state === "Running");
    await harness.stopWorker(worker);
    await harness.cluster.events.flush();
    await waitForStates([slow.flowRunId], (state) => state === "Completed");
  });
});
