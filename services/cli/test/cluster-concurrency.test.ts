/**
 * Deployment and work pool concurrency limits across worker processes, with a real server:
 * `flow.deploy({ concurrencyLimit, collisionStrategy })`, `work-pool create --concurrency-limit`,
 * overlaps checked from the recorded start and end times.
 */
import type { SluiceClient } from "@sluice/client";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { maxOverlap } from "../../worker/test/max-overlap.js";
import { startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";

interface RunTimes {
  id: string;
  state_name: string;
  start_time: Date | null;
  end_time: Date | null;
}

async function runTimes(pool: pg.Pool, ids: string[]): Promise<RunTimes[]> {
  const { rows } = await pool.query<RunTimes>(
    "SELECT id, state_name, start_time, end_time FROM flow_runs WHERE id = ANY($1) ORDER BY start_time",
    [ids],
  );
  return rows;
}

async function waitForAll(pool: pg.Pool, ids: string[], state: string, timeoutMs = 45_000): Promise<RunTimes[]> {
  return waitFor(
    `${ids.length} runs ${state}`,
    async () => {
      const rows = await runTimes(pool, ids);
      return rows.length === ids.length && rows.every((row) => row.state_name === state) ? rows : undefined;
    },
    timeoutMs,
  );
}

async function historyOf(pool: pg.Pool, id: string): Promise<{ name: string; message: string | null }[]> {
  const { rows } = await pool.query<{ name: string; message: string | null }>(
    "SELECT name, message FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
    [id],
  );
  return rows;
}

async function startWorkers(cluster: TestCluster, pool?: string): Promise<void> {
  const workers = ["w1", "w2"].map((name) =>
    cluster.worker(name, { pool, flows: "services/cli/test/flows", limit: 5 }),
  );
  await waitFor("two workers started", async () =>
    workers.every((worker, i) => worker.output().includes(`Worker 'w${i + 1}' started`)),
  );
}

async function deployLimited(env: Record<string, string>): Promise<void> {
  const deployed = await runSluice(["deploy", "services/cli/test/flows/deploy-limited.ts"], env);
  expect(deployed.stderr).toBe("");
  expect(deployed.code).toBe(0);
}

async function createRuns(client: SluiceClient, deploymentName: string, count: number, ms: number) {
  const deployment = await client.readDeploymentByName("Slow Flow", deploymentName);
  const runs = [];
  for (let i = 0; i < count; i++)
    runs.push(await client.createFlowRunFromDeployment(deployment.id, { parameters: { ms } }));
  return runs.map((run) => run.id);
}

describe("deployment concurrency limits across two workers", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await startWorkers(cluster);
    await deployLimited(cluster.env);
  });

  afterAll(() => cluster?.close());

  it("ENQUEUE, limit 1: three runs never overlap, all complete, the waiting ones were AwaitingConcurrencySlot off the workers", async () => {
    const { client, pool } = cluster;
    const ids = await createRuns(client, "one-at-a-time", 3, 1_500);
    // While one runs, the others wait as delayed jobs: they hold no worker slot.
    await waitFor("one run running and the others waiting as delayed jobs", async () => {
      const health = await client.readWorkPoolHealth("default-agent-pool");
      return health.flow_runs.running === 1 && health.flow_runs.delayed === 2;
    });

    const rows = await waitForAll(pool, ids, "Completed");
    expect(maxOverlap(rows.map((row) => ({ start: row.start_time, end: row.end_time })))).toBe(1);
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]?.start_time?.getTime()).toBeGreaterThanOrEqual(rows[i - 1]?.end_time?.getTime() ?? Infinity);
    }
    // The two that started after the first had to wait for its slot.
    for (const row of rows.slice(1)) {
      const history = await historyOf(pool, row.id);
      const names = history.map((state) => state.name);
      expect(names[0]).toBe("Scheduled");
      expect(names).toContain("AwaitingConcurrencySlot");
      expect(names.slice(-3)).toEqual(["Pending", "Running", "Completed"]);
      expect(history.find((state) => state.name === "AwaitingConcurrencySlot")?.message).toMatch(
        /Deployment concurrency limit of 1 reached/,
      );
    }
    const deployment = await client.readDeploymentByName("Slow Flow", "one-at-a-time");
    expect(deployment.global_concurrency_limit?.active_slots).toBe(0);
  }, 90_000);

  it("CANCEL_NEW, limit 1: a second run while the first runs ends Cancelled; `deployment inspect` shows the limit", async () => {
    const { client, pool, env } = cluster;
    const [first] = await createRuns(client, "no-overlap", 1, 8_000);
    await waitFor(
      "the first run Running",
      async () => (await runTimes(pool, [first as string]))[0]?.state_name === "Running",
    );

    const inspected = await runSluice(["deployment", "inspect", "Slow Flow/no-overlap"], env);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      concurrency_limit: 1,
      concurrency_options: { collision_strategy: "CANCEL_NEW" },
      global_concurrency_limit: { limit: 1, active_slots: 1 },
    });

    const [second] = await createRuns(client, "no-overlap", 1, 10);
    await waitForAll(pool, [second as string], "Cancelled", 20_000);
    const history = await historyOf(pool, second as string);
    expect(history.map((state) => state.name)).toEqual(["Scheduled", "Cancelled"]);
    expect(history.at(-1)?.message).toMatch(/Deployment concurrency limit of 1 reached/);

    await waitForAll(pool, [first as string], "Completed");
    // The slot is free again: the next run goes through.
    const [third] = await createRuns(client, "no-overlap", 1, 10);
    await waitForAll(pool, [third as string], "Completed");
  }, 90_000);
});

describe("work pool concurrency limit", () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster();
  });

  afterAll(() => cluster?.close());

  it("a pool limited to 2 with two workers of --limit 5 never runs more than 2 flow runs at once", async () => {
    const { client, pool, env } = cluster;
    const created = await runSluice(["work-pool", "create", "limited-pool", "--concurrency-limit", "2"], env);
    expect(created.stderr).toBe("");
    expect(created.stdout).toContain("at most 2 flow runs at once");
    await startWorkers(cluster, "limited-pool");
    await deployLimited(env);

    const ids = await createRuns(client, "limited-pool", 6, 800);
    let mostInUse = 0;
    const rows = await waitFor(
      "6 runs Completed",
      async () => {
        const health = await client.readWorkPoolHealth("limited-pool");
        expect(health.concurrency_limit).toBe(2);
        mostInUse = Math.max(mostInUse, health.concurrency_in_use);
        const current = await runTimes(pool, ids);
        return current.every((row) => row.state_name === "Completed") && current.length === 6 ? current : undefined;
      },
      60_000,
    );
    expect(maxOverlap(rows.map((row) => ({ start: row.start_time, end: row.end_time })))).toBeLessThanOrEqual(2);
    expect(mostInUse).toBeGreaterThan(0);
    expect(mostInUse).toBeLessThanOrEqual(2);

    const inspected = await runSluice(["work-pool", "inspect", "limited-pool"], env);
    expect(inspected.stdout).toMatch(/concurrency 0 in use of 2/);
    // Updated through PATCH: the new limit is the pool's and its queue's.
    expect((await runSluice(["work-pool", "set-concurrency-limit", "limited-pool", "3"], env)).code).toBe(0);
    expect((await client.readWorkPool("limited-pool")).concurrency_limit).toBe(3);
    expect((await runSluice(["work-pool", "clear-concurrency-limit", "limited-pool"], env)).code).toBe(0);
    expect((await client.readWorkPoolHealth("limited-pool")).concurrency_limit).toBeNull();
    // A work queue's limit, through the same commands.
    const queueLimit = await runSluice(
      ["work-pool", "set-concurrency-limit", "limited-pool", "1", "--queue", "default"],
      env,
    );
    expect(queueLimit.stdout).toContain("Work queue 'default' of pool 'limited-pool': at most 1 flow runs at once");
    expect((await client.readWorkPoolHealth("limited-pool")).work_queues).toEqual([
      { name: "default", concurrency_limit: 1, concurrency_in_use: 0 },
    ]);
    expect((await runSluice(["work-pool", "inspect", "limited-pool"], env)).stdout).toContain(
      "work queue 'default': concurrency 0 in use of 1",
    );
  }, 120_000);
});
