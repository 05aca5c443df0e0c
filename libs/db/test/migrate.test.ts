import { randomBytes } from "node:crypto";
import { ensureDatabase, MIGRATIONS_FOLDER, migrateDatabase, withDatabaseName } from "@sluice/db";
import { createTestContext, type TestContext } from "@sluice/testing";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let ctx: TestContext;
let created: string[] = [];

beforeEach(async () => {
  ctx = await createTestContext();
  created = [];
});

afterEach(async () => {
  const admin = new pg.Client({ connectionString: ctx.adminDatabaseUrl });
  await admin.connect();
  try {
    for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await ctx.close();
});

/** A database name on the test server that does not exist yet (dropped after the test). */
function freshDatabaseUrl(): string {
  const name = `sluice_${ctx.prefix}_m${randomBytes(4).toString("hex")}`;
  created.push(name);
  return withDatabaseName(ctx.adminDatabaseUrl, name);
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe("ensureDatabase", () => {
  it("creates a missing database once, even when several callers race", async () => {
    const url = freshDatabaseUrl();
    const results = await Promise.all([ensureDatabase(url), ensureDatabase(url), ensureDatabase(url)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await ensureDatabase(url)).toBe(false);
    expect(await query(url, "SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});

describe("migrateDatabase", () => {
  it("creates and migrates a database; running it again, or concurrently, is harmless", async () => {
    const url = freshDatabaseUrl();
    await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
    await migrateDatabase(url);

    const tables = await query<{ tablename: string }>(
      url,
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    expect(tables.map((t) => t.tablename)).toEqual([
      "concurrency_limits",
      "deleted_flow_runs",
      "deployment_schedules",
      "deployments",
      "flow_run_states",
      "flow_runs",
      "flows",
      "logs",
      "task_cache",
      "task_run_payloads",
      "task_run_states",
      "task_runs",
      "work_pools",
      "work_queues",
      "workers",
    ]);
    const applied = await query(url, "SELECT hash FROM drizzle.__drizzle_migrations");
    const { readdirSync } = await import("node:fs");
    expect(applied).toHaveLength(readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith(".sql")).length);
    // No connection is left open (the database can serve as a template right away).
    const open = await query<{ n: string }>(
      ctx.adminDatabaseUrl,
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = '${new URL(url).pathname.slice(1)}'`,
    );
    expect(Number(open[0]?.n)).toBe(0);
  });

  it("stores cached results as json, and big values with lz4: an ETL batch is written on the run's path", async () => {
    const columns = await query<{ column: string; type: string; compression: string }>(
      ctx.databaseUrl,
      `SELECT attrelid::regclass || '.' || attname AS column, format_type(atttypid, atttypmod) AS type,
         attcompression AS compression
       FROM pg_attribute
       WHERE (attrelid, attname) IN (('task_cache'::regclass, 'result'), ('task_run_payloads'::regclass, 'value'))
       ORDER BY 1`,
    );
    expect(columns).toEqual([
      { column: "task_cache.result", type: "json", compression: "l" },
      { column: "task_run_payloads.value", type: "text", compression: "l" },
    ]);
  });

  it("is a no-op on the test context's already migrated database", async () => {
    await migrateDatabase(ctx.databaseUrl);
    const enumValues = await query<{ v: string }>(ctx.databaseUrl, "SELECT unnest(enum_range(NULL::state_type)) AS v");
    expect(enumValues.map((r) => r.v)).toContain("CANCELLING");
  });
});
