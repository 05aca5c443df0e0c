/**
 * Creating and removing the per-test resources: databases on the test server, keys under a Redis prefix.
 * Also `@sluice/testing/resources`, for scripts that run outside vitest (the index needs its globalSetup).
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import pg from "pg";

/** Lowercase hex, safe in database names and Redis glob patterns. */
export function randomId(bytes = 4): string {
  return randomBytes(bytes).toString("hex");
}

/** The URL of database `name` on the same server (and with the same credentials) as `serverUrl`. */
export function databaseUrlFor(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * `CREATE DATABASE name TEMPLATE template`. Postgres refuses while anyone is connected to the template
 * ("source database is being accessed by other users", 55006), so that case is retried briefly.
 */
export async function createDatabaseFromTemplate(adminUrl: string, name: string, template: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== "55006" || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
}

export async function dropDatabases(client: pg.Client, names: readonly string[]): Promise<void> {
  for (const name of names) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** UNLINKs every key matching the glob `pattern` (e.g. `t_ab12:*`); returns how many were removed. */
export async function unlinkKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}
