import { createTestContext, type TestContext } from "@sluice/testing";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clusterEnv, runSluice } from "./run-cli.js";

let ctx: TestContext;
let pool: pg.Pool;
beforeEach(async () => {
  ctx = await createTestContext();
  pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  // Dropping the test database may reach a connection that pool.end() is still closing.
  pool.on("error", () => {});
});
afterEach(async () => {
  await pool.end();
  await ctx.close();
});

const query = async <Row = Record<string, unknown>>(sql: string, params?: unknown[]) =>
  (await pool.query(sql, params)).rows as Row[];

describe("the ETL example, end to end through `sluice run`", () => {
  it("loads the cleaned users and records the runs, states and logs; the second run hits the cache", async () => {
    const first = await runSluice(["run", "examples/flows/etl_pipeline.ts"], clusterEnv(ctx));
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout.split("\n")[0]).toMatch(/^Sluice cluster mode: Redis redis:\/\/.*, Postgres postgres:\/\//);
    expect(first.stdout).toContain("Pipeline complete: 10 rows loaded into users");

    // Ten distinct users with a name: the duplicate id and the nameless row were dropped.
    const users = await query<{ id: string; name: string; created_at: Date; company_name: string }>(
      "SELECT * FROM users ORDER BY id",
    );
    expect(users.map((user) => Number(user.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(users[0]?.created_at).toBeInstanceOf(Date);
    expect(users[0]).toMatchObject({
      name: "Leanne Graham",
      company_name: "Graham Group",
      address_city: "Gwenborough",
    });

    const [flowRun] = await query<{ id: string; state_name: string; parameters: Record<string, unknown> }>(
      "SELECT fr.id, fr.state_name, fr.parameters FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id WHERE f.name = 'ETL Pipeline'",
    );
    expect(flowRun?.state_name).toBe("Completed");
    expect(flowRun?.parameters).toMatchObject({ tableName: "users" });
    const taskRuns = await query<{ id: string; name: string; state_name: string }>(
      "SELECT id, name, state_name FROM task_runs WHERE flow_run_id = $1 ORDER BY expected_start_time",
      [flowRun?.id],
    );
    expect(taskRuns.map((run) => [run.name, run.state_name])).toEqual([
      ["extract_data-0", "Completed"],
      ["transform_data-0", "Completed"],
      ["load_data-0", "Completed"],
    ]);
    for (const run of taskRuns) {
      const states = await query<{ name: string }>(
        "SELECT name FROM task_run_states WHERE task_run_id = $1 ORDER BY timestamp",
        [run.id],
      );
      expect(states.map((state) => state.name)).toEqual(["Pending", "Running", "Completed"]);
    }
    const flowStates = await query<{ name: string }>(
      "SELECT name FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
      [flowRun?.id],
    );
    expect(flowStates.map((state) => state.name)).toEqual(["Pending", "Running", "Completed"]);
    const logs = (
      await query<{ message: string }>("SELECT message FROM logs WHERE flow_run_id = $1", [flowRun?.id])
    ).map((log) => log.message);
    expect(logs).toContain("Pipeline complete: 10 rows loaded into users"); // console.log, captured by logPrints
    expect(logs.some((message) => message.startsWith("Extracting data from http://127.0.0.1:"))).toBe(true);

    const second = await runSluice(["run", "examples/flows/etl_pipeline.ts"], clusterEnv(ctx));
    expect(second.code).toBe(0);
    const extracts = await query<{ state_name: string }>(
      "SELECT state_name FROM task_runs WHERE task_key = 'extract_data' ORDER BY expected_start_time",
    );
    expect(extracts.map((run) => run.state_name)).toEqual(["Completed", "Cached"]);
    expect(await query("SELECT count(*)::int AS n FROM users")).toEqual([{ n: 10 }]);
  });

  it("rejects invalid parameters with a message naming the field, exit code 2, and nothing recorded", async () => {
    const result = await runSluice(
      ["run", "examples/flows/etl_pipeline.ts", "--param", "apiUrl=not-a-url"],
      clusterEnv(ctx),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Invalid parameters for flow 'ETL Pipeline': parameters\.apiUrl/);
    expect(await query("SELECT * FROM flow_runs")).toEqual([]);
  });

  it("names an unreachable, explicitly configured Redis instead of falling back", async () => {
    const result = await runSluice(["run", "examples/flows/etl_pipeline.ts"], {
      ...clusterEnv(ctx),
      SLUICE_REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Redis at redis://127.0.0.1:1");
  });
});
