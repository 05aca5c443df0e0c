/**
 * Per-test isolation on the Redis and Postgres provisioned by the global setup: each context gets its
 * own database (a copy of the migrated template) and its own Redis key prefix, and `close()` removes both.
 */
import { Redis } from "ioredis";
import { inject } from "vitest";
import "./provided.js";
import {
  createDatabaseFromTemplate,
  databaseUrlFor,
  dropDatabases,
  randomId,
  unlinkKeys,
  withClient,
} from "./resources.js";

export { stopWithThisProcess } from "./child-reaper.js";
export { createEmbeddedHome, type EmbeddedHome } from "./embedded.js";
export {
  DEFAULT_TEST_DATABASE_URL,
  DEFAULT_TEST_REDIS_URL,
  startPostgresServer,
  startRedisServer,
  type ThrowawayServer,
} from "./services.js";
export {
  type CliResult,
  REPO_ROOT,
  type SluiceCommand,
  type SluiceCommandOptions,
  spawnSluice,
} from "./sluice-command.js";
export { type WaitOptions, waitFor } from "./wait-for.js";

export interface TestContext {
  redisUrl: string;
  /** A fresh, migrated database of this test's own. */
  databaseUrl: string;
  /** The server's maintenance database (for tests that create or inspect databases). */
  adminDatabaseUrl: string;
  /** Redis key prefix of this test (use it as the BullMQ prefix); every `${prefix}:*` key is deleted on close. */
  prefix: string;
  /** Connected client on `redisUrl` (maxRetriesPerRequest: null, so BullMQ accepts it). */
  redis: Redis;
  /** Drops the database (WITH (FORCE)), deletes the prefix's keys, disconnects. Safe to call twice. */
  close(): Promise<void>;
}

export async function createTestContext(): Promise<TestContext> {
  const redisUrl = inject("sluiceRedisUrl");
  const adminDatabaseUrl = inject("sluiceAdminDatabaseUrl");
  const template = inject("sluiceTemplateDatabase");
  const runId = inject("sluiceRunId");
  if (!redisUrl || !adminDatabaseUrl || !template || !runId) {
    throw new Error("createTestContext() needs libs/testing/src/global-setup.ts as vitest's globalSetup");
  }
  const id = `${runId}_${randomId()}`;
  const databaseName = `sluice_t_${id}`;
  const prefix = `t_${id}`;

  await createDatabaseFromTemplate(adminDatabaseUrl, databaseName, template);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null });
  try {
    await redis.connect();
  } catch (error) {
    await withClient(adminDatabaseUrl, (client) => dropDatabases(client, [databaseName]));
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    redisUrl,
    databaseUrl: databaseUrlFor(adminDatabaseUrl, databaseName),
    adminDatabaseUrl,
    prefix,
    redis,
    close() {
      closing ??= (async () => {
        const results = await Promise.allSettled([
          withClient(adminDatabaseUrl, (client) => dropDatabases(client, [databaseName])),
          (async () => {
            // On a connection of our own: the test may have quit or broken `redis` already.
            const cleaner = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
            try {
              await unlinkKeys(cleaner, `${prefix}:*`);
            } finally {
              cleaner.disconnect();
              await redis.quit().catch(() => redis.disconnect());
            }
          })(),
        ]);
        for (const result of results) if (result.status === "rejected") throw result.reason;
      })();
      return closing;
    },
  };
}
