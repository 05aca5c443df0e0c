/** `sluice concurrency-limit …` against a real server, and the limit holding for a flow run through `sluice run`. */
import { createTestContext, type TestContext } from "@sluice/testing";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { clusterEnvFor, freePort, type SluiceProcess, startSluice, waitFor } from "./cluster-processes.js";

let ctx: TestContext;
let env: Record<string, string>;
let server: SluiceProcess;

beforeEach(async () => {
  ctx = await createTestContext();
  env = clusterEnvFor(ctx, await freePort());
  server = startSluice(["server", "start", "--services", "api"], env);
  await waitFor("the API", async () => (await fetch(`${env.SLUICE_API_URL}/health`)).ok);
});

afterEach(async () => {
  await server.stop("SIGKILL");
  await ctx.close();
});

it("concurrency-limit create|ls|inspect|reset|delete, and the limit holds for tagged task runs", async () => {
  const created = await runSluice(["concurrency-limit", "create", "warehouse", "2"], env);
  expect(created.stderr).toBe("");
  expect(created.stdout).toContain("Tag 'warehouse': at most 2 task runs at once");
  expect((await runSluice(["concurrency-limit", "ls"], env)).stdout).toMatch(/warehouse\s+2\s+0/);

  const run = await runSluice(["run", "services/cli/test/flows/tagged.ts"], env);
  expect(run.code).toBe(0);
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 1 });
  pool.on("error", () => {});
  try {
    const { rows } = await pool.query<{ start: Date; end: Date }>(`
      SELECT min(s.timestamp) FILTER (WHERE s.name = 'Running') AS start,
             max(s.timestamp) FILTER (WHERE s.type = 'COMPLETED') AS end
      FROM task_runs t JOIN task_run_states s ON s.task_run_id = t.id
      WHERE t.task_key = 'load_chunk' GROUP BY t.id`);
    expect(rows).toHaveLength(8);
    const overlapping = (at: number) =>
      rows.filter((row) => row.start.getTime() <= at && at < row.end.getTime()).length;
    expect(Math.max(...rows.map((row) => overlapping(row.start.getTime())))).toBe(2);
  } finally {
    await pool.end();
  }

  expect((await runSluice(["concurrency-limit", "inspect", "warehouse"], env)).stdout).toContain("0 slot(s) in use");
  expect((await runSluice(["concurrency-limit", "reset", "warehouse"], env)).code).toBe(0);
  expect((await runSluice(["concurrency-limit", "delete", "warehouse"], env)).code).toBe(0);
  const missing = await runSluice(["concurrency-limit", "inspect", "warehouse"], env);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("Concurrency limit not found");
  expect((await runSluice(["concurrency-limit", "create", "warehouse", "lots"], env)).stderr).toContain(
    "The limit must be a whole number",
  );
}, 60_000);
