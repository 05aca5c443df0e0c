import { Redis } from "ioredis";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { createTestContext, type TestContext } from "../src/index.js";

const opened: TestContext[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ctx) => ctx.close()));
});

async function open(): Promise<TestContext> {
  const ctx = await createTestContext();
  opened.push(ctx);
  return ctx;
}

async function query<T extends pg.QueryResultRow>(url: string, text: string, values?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const databaseName = (url: string) => new URL(url).pathname.slice(1);

async function databaseExists(ctx: TestContext, name: string): Promise<boolean> {
  const rows = await query(ctx.adminDatabaseUrl, "SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  return rows.length === 1;
}

async function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    return await redis.keys(`${prefix}:*`);
  } finally {
    redis.disconnect();
  }
}

describe("createTestContext", () => {
  it("gives each context its own migrated database and Redis prefix", async () => {
    const [a, b] = await Promise.all([open(), open()]);

    expect(a.databaseUrl).not.toBe(b.databaseUrl);
    expect(databaseName(a.databaseUrl)).toMatch(/^sluice_t_[0-9a-f_]+$/);
    expect(a.prefix).not.toBe(b.prefix);
    expect(a.prefix).toMatch(/^t_[0-9a-f_]+$/);
    expect(await a.redis.ping()).toBe("PONG");

    // Both are copies of the migrated template: they already have tables.
    for (const ctx of [a, b]) {
      const [row] = await query<{ n: number }>(
        ctx.databaseUrl,
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
      );
      expect(row?.n).toBeGreaterThan(0);
    }

    // What one test writes, the other does not see.
    await query(a.databaseUrl, "CREATE TABLE only_in_a (id int)");
    const inB = await query(b.databaseUrl, "SELECT 1 FROM information_schema.tables WHERE table_name = 'only_in_a'");
    expect(inB).toHaveLength(0);
  });

  it("close() drops the database and every key under the prefix, and nothing else", async () => {
    const [ctx, neighbour] = await Promise.all([open(), open()]);
    const name = databaseName(ctx.databaseUrl);

    // A connection the test forgot to close does not stop the drop.
    const leaked = new pg.Client({ connectionString: ctx.databaseUrl });
    leaked.on("error", () => {});
    await leaked.connect();

    const pipeline = ctx.redis.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.set(`${ctx.prefix}:bull:q:${i}`, "x"); // more than one SCAN page
    await pipeline.exec();
    await ctx.redis.xadd(`${ctx.prefix}:events`, "*", "k", "v");
    await neighbour.redis.set(`${neighbour.prefix}:kept`, "y");

    await ctx.close();
    await ctx.close(); // idempotent
    await leaked.end().catch(() => {});

    expect(await databaseExists(neighbour, name)).toBe(false);
    expect(await keysUnder(ctx.redisUrl, ctx.prefix)).toEqual([]);
    expect(ctx.redis.status).toBe("end");
    expect(await neighbour.redis.get(`${neighbour.prefix}:kept`)).toBe("y");
    expect(await databaseExists(neighbour, databaseName(neighbour.databaseUrl))).toBe(true);
  });

  it("close() cleans up even when the test already quit its Redis client", async () => {
    const ctx = await open();
    await ctx.redis.set(`${ctx.prefix}:x`, "1");
    await ctx.redis.quit();

    await ctx.close();

    expect(await keysUnder(ctx.redisUrl, ctx.prefix)).toEqual([]);
    expect(await databaseExists(ctx, databaseName(ctx.databaseUrl))).toBe(false);
  });
});
