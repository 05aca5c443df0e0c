/**
 * The Redis and Postgres a benchmark run uses, and what it reports about them. Like `npm test`:
 * SLUICE_REDIS_URL / SLUICE_DATABASE_URL when set (an error if unusable), else the servers at the
 * default addresses, else throwaway servers started from the installed binaries (libs/testing)
 * and stopped at the end, so the CI smoke check runs wherever the tests run.
 */
import { availableParallelism } from "node:os";
import { startPostgresServer, startRedisServer, type ThrowawayServer } from "@sluice/testing";
import { Redis } from "ioredis";
import pg from "pg";
import { databaseUrlFor, services } from "./cluster.js";
import type { Machine } from "./results.js";

async function redisProblem(url: string): Promise<string | null> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    redis.disconnect();
  }
}

async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      "SELECT rolsuper OR rolcreatedb AS ok FROM pg_roles WHERE rolname = current_user",
    );
    return rows[0]?.ok ? null : "the role may not create databases";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Settles `services`; resolves to a function stopping whatever servers it started. */
export async function provisionServices(log: (line: string) => void): Promise<() => Promise<void>> {
  const started: ThrowawayServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop().catch(() => {})));
  };
  try {
    const redisProblemText = await redisProblem(services.redisUrl);
    if (redisProblemText) {
      if (process.env.SLUICE_REDIS_URL) throw new Error(`Redis at ${services.redisUrl}: ${redisProblemText}`);
      const server = await startRedisServer();
      started.push(server);
      log(`No Redis at ${services.redisUrl} (${redisProblemText}): using a throwaway one at ${server.url}`);
      services.redisUrl = server.url;
    }
    const postgresProblemText = await postgresProblem(databaseUrlFor("postgres"));
    if (postgresProblemText) {
      if (process.env.SLUICE_DATABASE_URL)
        throw new Error(`Postgres at ${services.postgresUrl}: ${postgresProblemText}`);
      const server = await startPostgresServer();
      started.push(server);
      log(`No Postgres at ${services.postgresUrl} (${postgresProblemText}): using a throwaway one at ${server.url}`);
      services.postgresUrl = server.url;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

/** The machine, with the versions of the Redis and Postgres actually used. */
export async function readMachine(): Promise<Machine> {
  const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const client = new pg.Client({ connectionString: databaseUrlFor("postgres") });
  try {
    await redis.connect();
    const info = await redis.info("server");
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>("SHOW server_version");
    return {
      cores: availableParallelism(),
      node: process.version,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
      postgres: rows[0]?.server_version ?? "unknown",
    };
  } finally {
    redis.disconnect();
    await client.end().catch(() => {});
  }
}
