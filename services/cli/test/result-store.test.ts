/** Large task-run arguments and results cross processes through the result store (Postgres), small ones inline. */
import { randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";

let cluster: TestCluster;
const gate = join(tmpdir(), `sluice-gate-${randomUUID()}`);

beforeEach(async () => {
  cluster = await startTestCluster();
});

afterEach(async () => {
  await cluster.close();
  await rm(gate, { force: true });
});

interface QueuedJob {
  key: string;
  size: number;
  data: { taskName: string; args: unknown };
}

/** The task-run jobs in Redis, with the size of their data. */
async function taskRunJobs(): Promise<QueuedJob[]> {
  const { redis, prefix } = cluster.ctx;
  const keys = await redis.keys(`${prefix}:task-runs.default-agent-pool:*`);
  const jobs: QueuedJob[] = [];
  for (const key of keys.filter((k) => /:[0-9a-f-]{36}$/.test(k))) {
    const data = await redis.hget(key, "data");
    if (data !== null) jobs.push({ key, size: data.length, data: JSON.parse(data) as QueuedJob["data"] });
  }
  return jobs;
}

it(".map() with 1 MB arguments and 1 MB results on another worker process: exact results, small jobs, payloads cleaned up", async () => {
  const { client, env, pool } = cluster;
  // Every payload written to the store, as it was written.
  await pool.query(`
    CREATE TABLE payload_audit (key text, bytes int);
    CREATE FUNCTION audit_payload() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO payload_audit VALUES (NEW.key, length(NEW.value)); RETURN NEW; END $$;
    CREATE TRIGGER payload_audit AFTER INSERT OR UPDATE ON task_run_payloads
      FOR EACH ROW EXECUTE FUNCTION audit_payload();`);
  // The first worker takes the flow run (and at most one task run); the second the rest.
  const flowWorker = cluster.worker("w1", { flows: "services/cli/test/flows", taskLimit: 1 });
  expect((await runSluice(["deploy", "services/cli/test/flows/deploy-big-payloads.ts"], env)).code).toBe(0);
  await waitFor("the first worker", async () => (await client.filterWorkers("default-agent-pool")).length === 1);
  const deployment = await client.readDeploymentByName("Big Payloads Flow", "big-payloads");
  const run = await client.createFlowRunFromDeployment(deployment.id, { parameters: { gate } });

  // While the task runs wait at the gate, their jobs are in Redis: the big ones carry references.
  const jobs = await waitFor("five task-run jobs", async () => {
    const found = await taskRunJobs();
    return found.length === 5 ? found : undefined;
  });
  const big = jobs.filter((job) => job.data.taskName === "big_echo");
  const small = jobs.filter((job) => job.data.taskName === "small_echo");
  expect(big).toHaveLength(3);
  for (const job of big) {
    expect(job.size).toBeLessThan(2000);
    expect(job.data.args).toEqual({ $ref: expect.stringMatching(/^task-run\/.+\/args$/), bytes: expect.any(Number) });
  }
  expect(small.map((job) => job.data.args).sort()).toEqual([
    [1, gate],
    [2, gate],
  ]);

  const taskWorker = cluster.worker("w2", { flows: "services/cli/test/flows" });
  await waitFor("the second worker", async () => (await client.filterWorkers("default-agent-pool")).length === 2);
  await writeFile(gate, "open");

  const final = await waitFor(
    "the flow run to finish",
    async () => {
      const current = await client.readFlowRun(run.id);
      return current.state_type === "COMPLETED" || current.state_type === "FAILED" ? current : undefined;
    },
    60_000,
  );
  expect(final.state_name).toBe("Completed");
  const { rows } = await pool.query<{ result: unknown }>("SELECT result FROM flow_runs WHERE id = $1", [run.id]);
  expect(rows[0]?.result).toEqual({
    big: [0, 1, 2].map(() => ({ exact: true, length: 1_000_000 })),
    small: [
      { $ref: "not-a-reference-1", n: 1 },
      { $ref: "not-a-reference-2", n: 2 },
    ],
  });
  expect(flowWorker.output()).toContain("Beginning flow run");
  expect(taskWorker.output()).toMatch(/Task run 'big_echo-\d' - Finished in state Completed/);

  // Arguments and results of the big runs went through the store, nothing of the small ones.
  const { rows: audit } = await pool.query<{ key: string; bytes: number }>("SELECT key, bytes FROM payload_audit");
  expect(audit.filter((row) => row.key.endsWith("/args"))).toHaveLength(3);
  expect(audit.filter((row) => row.key.endsWith("/result"))).toHaveLength(3);
  for (const row of audit) expect(row.bytes).toBeGreaterThan(1_000_000);
  // And were deleted once the flow had them.
  await waitFor("the payloads deleted", async () => {
    const { rows: left } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM task_run_payloads");
    return left[0]?.n === 0;
  });
}, 120_000);
