/**
 * Test harness: the engine of either mode, and SQL to read back what it recorded.
 *
 * - cluster: the test's own Postgres database and Redis prefix (Redis stream → recorder → Postgres);
 * - embedded: a fresh temp SLUICE_HOME holding a migrated PGlite database; rows are read back
 *   through the engine's own PGlite handle (only one process may open the store).
 *
 * The engine behaviour tests run the same cases against both (`describe.each(ENGINE_MODES)`).
 */

import { redisKeys } from "@sluice/queue";
import { configureEngine } from "@sluice/sdk";
import { createLogger } from "@sluice/telemetry";
import { createEmbeddedHome, createTestContext, type EmbeddedHome, type TestContext } from "@sluice/testing";
import pg from "pg";
import { type CliConfig, loadConfig } from "../src/config.js";
import { type RunningEngine, startClusterEngine } from "../src/modes/cluster.js";
import { type EmbeddedRunningEngine, startEmbeddedEngine } from "../src/modes/embedded.js";

export type EngineMode = "cluster" | "embedded";
export const ENGINE_MODES: readonly EngineMode[] = ["cluster", "embedded"];

export interface EngineHarness {
  mode: EngineMode;
  config: CliConfig;
  running: RunningEngine;
  /** Waits until every event emitted so far is recorded (cluster mode: by restarting the engine). */
  recorded(): Promise<void>;
  /** Closes the engine (everything recorded) and starts a new one, as another process would. */
  restart(): Promise<void>;
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Sets a tag's concurrency limit where this mode's engine reads it (as the API does in cluster mode). */
  setTagLimit(tag: string, limit: number): Promise<void>;
  close(): Promise<void>;
}

const INSERT_TAG_LIMIT = "INSERT INTO concurrency_limits (tag, concurrency_limit) VALUES ($1, $2)";

export interface ClusterHarness extends EngineHarness {
  mode: "cluster";
  ctx: TestContext;
}

export function testConfig(ctx: TestContext): CliConfig {
  return loadConfig({
    SLUICE_DATABASE_URL: ctx.databaseUrl,
    SLUICE_REDIS_URL: ctx.redisUrl,
    SLUICE_REDIS_PREFIX: ctx.prefix,
    LOG_LEVEL: "silent",
  });
}

const logger = createLogger({ service: "test", level: "silent" });

export function startHarness(mode: "cluster"): Promise<ClusterHarness>;
export function startHarness(mode?: EngineMode): Promise<EngineHarness>;
export function startHarness(mode: EngineMode = "cluster"): Promise<EngineHarness> {
  return mode === "cluster" ? startClusterHarness() : startEmbeddedHarness();
}

/** Makes `running` the engine flows use, with quiet test output. */
function use<T extends RunningEngine>(running: T): T {
  running.engine.onLog = undefined;
  configureEngine(running.engine);
  return running;
}

async function startClusterHarness(): Promise<ClusterHarness> {
  const ctx = await createTestContext();
  const config = testConfig(ctx);
  const start = async () => use(await startClusterEngine(config, logger));
  const pool = new pg.Pool({ connectionString: ctx.databaseUrl, max: 2 });
  pool.on("error", () => {}); // dropping the test database may reach a connection pool.end() is still closing
  const harness: ClusterHarness = {
    mode: "cluster",
    ctx,
    config,
    running: await start(),
    recorded: () => harness.restart(),
    async restart() {
      await harness.running.close();
      harness.running = await start();
    },
    async query<Row>(sql: string, params?: unknown[]) {
      return (await pool.query(sql, params)).rows as Row[];
    },
    async setTagLimit(tag, limit) {
      await pool.query(INSERT_TAG_LIMIT, [tag, limit]);
      await ctx.redis.hset(redisKeys(ctx.prefix).tagLimits, tag, String(limit));
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

async function startEmbeddedHarness(): Promise<EngineHarness> {
  const home: EmbeddedHome = createEmbeddedHome();
  const config = loadConfig({ SLUICE_HOME: home.home, SLUICE_EMBEDDED: "1", LOG_LEVEL: "silent" });
  const start = async () => use(await startEmbeddedEngine(config, logger));
  let running: EmbeddedRunningEngine;
  try {
    running = await start();
  } catch (error) {
    home.close();
    throw error;
  }
  const harness: EngineHarness = {
    mode: "embedded",
    config,
    get running() {
      return running;
    },
    recorded: async () => {
      await running.engine.dispatcher.drain?.();
      await running.engine.events.flush();
    },
    async restart() {
      await running.close();
      running = await start();
    },
    async query<Row>(sql: string, params?: unknown[]) {
      return (await running.store.database.client.query<Row>(sql, params)).rows;
    },
    async setTagLimit(tag, limit) {
      await running.store.database.client.query(INSERT_TAG_LIMIT, [tag, limit]);
    },
    async close() {
      configureEngine(undefined);
      await running.close().catch(() => {});
      home.close();
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
