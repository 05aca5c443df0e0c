import { createTestContext, type TestContext } from "@sluice/testing";
import pg from "pg";
import { afterEach, beforeEach, expect, it } from "vitest";
import { clusterEnv, runSluice } from "./run-cli.js";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(async () => {
  await ctx.close();
});

it("the multi-stage pipeline runs its two subflows as flow runs linked to the parent", async () => {
  const result = await runSluice(["run", "examples/flows/data_pipeline.ts"], clusterEnv(ctx));
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toContain("Pipeline complete: 12 records ingested and enriched");

  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 1 });
  try {
    const { rows } = await pool.query<{
      id: string;
      flow: string;
      state_name: string;
      parent_flow: string | null;
      result: unknown;
    }>(`
      SELECT fr.id, f.name AS flow, fr.state_name, parent_flow.name AS parent_flow, fr.result
      FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id
      LEFT JOIN task_runs link ON link.id = fr.parent_task_run_id
      LEFT JOIN flow_runs parent ON parent.id = link.flow_run_id
      LEFT JOIN flows parent_flow ON parent_flow.id = parent.flow_id
      ORDER BY fr.expected_start_time`);
    expect(rows.map((row) => [row.flow, row.state_name, row.parent_flow])).toEqual([
      ["Full Data Pipeline", "Completed", null],
      ["Stage 1 - Ingest", "Completed", "Full Data Pipeline"],
      ["Stage 2 - Enrich", "Completed", "Full Data Pipeline"],
    ]);
    expect(rows[0]?.result).toEqual({ count: 12, domains: 11 });
  } finally {
    await pool.end();
  }
});
