/**
 * Vitest global setup: finds or starts Redis and Postgres once per test run and builds a migrated
 * template database that every test database is copied from.
 *
 * For each of Redis and Postgres, in order:
 *  1. SLUICE_TEST_SERVICES=throwaway → always start a throwaway server;
 *  2. SLUICE_TEST_REDIS_URL / SLUICE_TEST_DATABASE_URL set → use it, or fail naming it if unusable;
 *  3. a server answering at the default URL → use it;
 *  4. otherwise start a throwaway server from the installed binaries (on a free port, in a temp dir),
 *     stopped and deleted in teardown; missing binaries fail with the Debian package to install.
 */
import { migrateDatabase } from "@sluice/db";
import { Redis } from "ioredis";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { buildSluice } from "./build.js";
import { createEmbeddedTemplate } from "./embedded.js";
import "./provided.js";
import { databaseUrlFor, dropDatabases, quoteIdent, randomId, unlinkKeys, withClient } from "./resources.js";
import {
  DEFAULT_TEST_DATABASE_URL,
  DEFAULT_TEST_REDIS_URL,
  probePostgres,
  probeRedis,
  startPostgresServer,
  startRedisServer,
  type ThrowawayServer,
} from "./services.js";

interface Provisioned {
  url: string;
  /** How it was chosen, for the start-up line. */
  how: string;
  server?: ThrowawayServer;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const mode = process.env.SLUICE_TEST_SERVICES ?? "auto";
  if (mode !== "auto" && mode !== "throwaway") {
    throw new Error(`SLUICE_TEST_SERVICES must be "auto" or "throwaway", not "${mode}"`);
  }
  const runId = randomId(3);
  const servers: ThrowawayServer[] = [];
  let runLock: pg.Client | undefined;
  // Built while Redis and Postgres are provisioned: PGlite's initdb takes a few seconds of CPU.
  const embeddedTemplate = createEmbeddedTemplate();
  embeddedTemplate.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
  const built = buildSluice();
  built.catch(() => {}); // awaited below, likewise
  const stopServers = async () => {
    await runLock?.end().catch(() => {});
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    await embeddedTemplate.then((template) => template.remove()).catch(() => {});
  };
  try {
    const results = await Promise.allSettled([
      provision("Redis", "SLUICE_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL, mode, probeRedis, startRedisServer),
      provision(
        "Postgres",
        "SLUICE_TEST_DATABASE_URL",
        DEFAULT_TEST_DATABASE_URL,
        mode,
        probePostgres,
        startPostgresServer,
      ),
    ]);
    for (const result of results)
      if (result.status === "fulfilled" && result.value.server) servers.push(result.value.server);
    const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new Error(failures.map((error) => String(error?.message ?? error)).join("\n"));
    const [redis, postgres] = results.map((result) => (result as PromiseFulfilledResult<Provisioned>).value) as [
      Provisioned,
      Provisioned,
    ];
    console.log(`[sluice tests] redis: ${redis.url} (${redis.how})`);
    console.log(`[sluice tests] postgres: ${postgres.url} (${postgres.how})`);

    // Held for the whole run: tells other runs on this server that our databases are in use.
    runLock = await lockRun(postgres.url, runId);
    await dropStaleDatabases(postgres.url);

    await built;
    const started = Date.now();
    const template = `sluice_tpl_${runId}_${randomId()}`;
    await withClient(postgres.url, (client) => client.query(`CREATE DATABASE ${quoteIdent(template)}`));
    try {
      await migrateDatabase(databaseUrlFor(postgres.url, template));
      // Nobody may connect to the template from now on (a connection would block CREATE DATABASE … TEMPLATE).
      await withClient(postgres.url, async (client) => {
        await client.query(`ALTER DATABASE ${quoteIdent(template)} WITH ALLOW_CONNECTIONS false`);
        await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [template]);
      });
    } catch (error) {
      await withClient(postgres.url, (client) => dropDatabases(client, [template])).catch(() => {});
      throw error;
    }
    console.log(`[sluice tests] template database ${template} migrated in ${Date.now() - started} ms`);

    project.provide("sluiceRedisUrl", redis.url);
    project.provide("sluiceAdminDatabaseUrl", postgres.url);
    project.provide("sluiceTemplateDatabase", template);
    project.provide("sluiceRunId", runId);
    project.provide("sluiceEmbeddedTemplate", (await embeddedTemplate).dir);

    return async function teardown() {
      try {
        await sweep(postgres.url, redis.url, runId, template);
      } finally {
        await stopServers();
      }
    };
  } catch (error) {
    await stopServers();
    throw error;
  }
}

async function provision(
  what: string,
  envName: string,
  defaultUrl: string,
  mode: string,
  probe: (url: string) => Promise<string | null>,
  start: () => Promise<ThrowawayServer>,
): Promise<Provisioned> {
  const startThrowaway = async (why: string): Promise<Provisioned> => {
    const server = await start();
    const version = server.version ? ` ${server.version}` : "";
    return { url: server.url, server, how: `throwaway${version}, ${why}; started in ${server.startMs} ms` };
  };
  if (mode === "throwaway") return startThrowaway("SLUICE_TEST_SERVICES=throwaway");
  const given = process.env[envName];
  if (given) {
    const problem = await probe(given);
    if (problem) throw new Error(`${what} at ${envName}=${given} is not usable: ${problem}`);
    return { url: given, how: `from ${envName}` };
  }
  const problem = await probe(defaultUrl);
  if (problem === null) return { url: defaultUrl, how: "reachable at the default URL" };
  return startThrowaway(`nothing usable at ${defaultUrl}: ${problem}`);
}

/** Drops the template and whatever test databases and keys of this run were not closed by their tests. */
async function sweep(adminUrl: string, redisUrl: string, runId: string, template: string): Promise<void> {
  const leftovers = await withClient(adminUrl, async (client) => {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `sluice\\_t\\_${runId}\\_%`,
    ]);
    await dropDatabases(client, [template, ...rows.map((row) => row.datname)]);
    return rows.length;
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let keys = 0;
  try {
    keys = await unlinkKeys(redis, `t_${runId}_*`);
  } finally {
    redis.disconnect();
  }
  if (leftovers > 0 || keys > 0) {
    console.warn(
      `[sluice tests] removed ${leftovers} test database(s) and ${keys} Redis key(s) left behind by tests that did not close their context`,
    );
  }
}

/** Advisory lock class of test runs; the object id is the run id (6 hex digits). */
const RUN_LOCK_CLASS = 0x51ce;
const RUN_DATABASE = /^sluice_(?:t|tpl)_([0-9a-f]{6})_/;

async function lockRun(adminUrl: string, runId: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  await client.query("SELECT pg_advisory_lock($1, $2)", [RUN_LOCK_CLASS, Number.parseInt(runId, 16)]);
  return client;
}

/**
 * Drops the databases of earlier runs that ended without their teardown (Ctrl-C, kill): those whose
 * run no longer holds its lock. Runs still going on this server keep theirs.
 */
async function dropStaleDatabases(adminUrl: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    // Databases first, then locks: a run takes its lock before it creates any database.
    const { rows: databases } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'sluice\\_t%'",
    );
    const { rows: locks } = await client.query<{ objid: number }>(
      "SELECT objid::int8::int AS objid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objsubid = 2 AND granted",
      [RUN_LOCK_CLASS],
    );
    const live = new Set(locks.map((lock) => Number(lock.objid)));
    const stale = databases
      .map((row) => row.datname)
      .filter((name) => {
        const run = RUN_DATABASE.exec(name)?.[1];
        return run !== undefined && !live.has(Number.parseInt(run, 16));
      });
    if (stale.length === 0) return;
    await dropDatabases(client, stale);
    console.warn(`[sluice tests] dropped ${stale.length} database(s) left by earlier runs that were interrupted`);
  });
}
