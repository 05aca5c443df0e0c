/** Test harness: a cluster-mode engine on the test's own database and Redis prefix, and SQL helpers to read the record. */
import { configureEngine } from "@sluice/sdk";
import { createTestContext, type TestContext } from "@sluice/testing";
import pg from "pg";
import { createLogger } from "@sluice/telemetry";
import type { CliConfig } from "../src/config.js";
import { type RunningEngine, startClusterEngine } from "../src/modes/cluster.js";

export interface EngineHarness {
  ctx: TestContext;
  config: CliConfig;
  running: RunningEngine;
  /** Waits for every event to be recorded (and restarts the engine, so a test can go on). */
  recorded(): Promise<void>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

export function testConfig(ctx: TestContext): CliConfig {
  return {
    databaseUrl: ctx.databaseUrl,
    redisUrl: ctx.redisUrl,
    databaseUrlConfigured: true,
    redisUrlConfigured: true,
    redisPrefix: ctx.prefix,
    logLevel: "silent",
  };
}

export async function startHarness(): Promise<EngineHarness> {
  const ctx = await createTestContext();
  const config = testConfig(ctx);
  const logger = createLogger({ service: "test", level: "silent" });
  const start = async () => {
    const running = await startClusterEngine(config, logger);
    running.engine.onLog = undefined; // keep test output quiet
    configureEngine(running.engine);
    return running;
  };
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  const harness: EngineHarness = {
    ctx,
    config,
    running: await start(),
    async recorded() {
      await harness.running.close();
      harness.running = await start();
    },
    async query<Row>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as Row[];
    },
    async close() {
      configureEngine(undefined);
      await harness.running.close().catch(() => {});
      await pool.end();
      await ctx.close();
    },
  };
  return harness;
}

/** State names of a run's history, oldest first. */
export async function stateHistory(harness: EngineHarness, kind: "flow_run" | "task_run", runId: string) {
  const rows = await harness.query<{ name: string }>(
    `SELECT name FROM ${kind}_states WHERE ${kind}_id = $1 ORDER BY timestamp, run_count`,
    [runId],
  );
  return rows.map((row) => row.name);
}
