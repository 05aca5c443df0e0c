import { createDatabase, type Database, PostgresResultStore } from "@sluice/db";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

let ctx: TestContext;
let database: Database;

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl, { max: 2 });
});

afterEach(async () => {
  await database.close();
  await ctx.close();
});

it("PostgresResultStore: put, get, overwrite and delete payloads, byte for byte", async () => {
  const store = new PostgresResultStore(database.db);
  const json = JSON.stringify(["x".repeat(200_000), { quote: '"', unicode: "日本語 😀", line: "a\nb" }]);
  await store.put("task-run/a/args", json);
  await store.put("task-run/a/result", "1");
  expect(await store.get("task-run/a/args")).toBe(json);
  expect(await store.get("missing")).toBeNull();

  await store.put("task-run/a/result", '"again"'); // a redelivered job writes its result again
  expect(await store.get("task-run/a/result")).toBe('"again"');

  await store.delete(["task-run/a/args", "task-run/a/result", "missing"]);
  await store.delete([]);
  expect(await store.get("task-run/a/args")).toBeNull();
  expect(await store.get("task-run/a/result")).toBeNull();
});

it("PostgresResultStore: payloads nobody deleted expire and are swept", async () => {
  const expire = (key: string) =>
    database.pool.query("UPDATE task_run_payloads SET expires_at = now() - interval '1 second' WHERE key = $1", [key]);
  const store = new PostgresResultStore(database.db, { ttlMs: 60_000, sweepIntervalMs: Number.POSITIVE_INFINITY });
  await store.put("old", "1");
  await store.put("new", "2");
  await expire("old");
  expect(await store.deleteExpired()).toBe(1);
  expect(await store.get("old")).toBeNull();
  expect(await store.get("new")).toBe("2");
  expect(await store.deleteExpired(new Date(Date.now() + 120_000))).toBe(1);

  // Writes sweep in the background.
  await store.put("old", "1");
  await expire("old");
  await new PostgresResultStore(database.db, { sweepIntervalMs: 0 }).put("another", "3");
  await expect.poll(() => store.get("old")).toBeNull();
  expect(await store.get("another")).toBe("3");
});
