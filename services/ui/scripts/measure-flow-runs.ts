/**
 * Time to first render of the flow-runs page with N runs in the database (default 100,000):
 * a throwaway database seeded with one SQL insert, `sluice server start` on it, Debian's Chromium
 * timing navigation → first table row visible (cold, then warm). Everything is removed at the end.
 *
 *   npx tsx services/ui/scripts/measure-flow-runs.ts [runs]
 *
 * Uses the Postgres and Redis at SLUICE_DATABASE_URL / SLUICE_REDIS_URL's servers (default local); the
 * server's Redis keys are all under its own prefix, and only those are deleted (the Redis may be shared).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { migrateDatabase, withDatabaseName } from "@sluice/db";
import { unlinkKeys } from "@sluice/testing/resources";
import { Redis } from "ioredis";
import pg from "pg";
import { launchChromium } from "../test/browser.js";
import { ensureUiBuilt } from "../test/ui-build.js";

const RUNS = Number(process.argv[2] ?? 100_000);
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const baseUrl = process.env.SLUICE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/sluice";
const name = `sluice_ui_perf_${process.pid}`;
const databaseUrl = withDatabaseName(baseUrl, name);
const adminUrl = withDatabaseName(baseUrl, "postgres");
const redisUrl = process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function seed(): Promise<void> {
  await migrateDatabase(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const started = Date.now();
  await client.query(`
    WITH flow AS (INSERT INTO flows (name) VALUES ('Perf Flow') RETURNING id)
    INSERT INTO flow_runs (name, flow_id, parameters, tags, expected_start_time, start_time, end_time,
                           total_run_time, run_count, state_type, state_name, state_timestamp, work_pool_name)
    SELECT 'perf-run-' || i, flow.id, '{}'::jsonb, ARRAY['perf'],
           now() - i * interval '1 second', now() - i * interval '1 second', now() - i * interval '1 second' + interval '2 seconds',
           2, 1, s.type::state_type, s.name, now() - i * interval '1 second', 'default-agent-pool'
    FROM flow, generate_series(1, ${RUNS}) AS i,
         LATERAL (SELECT CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'COMPLETED' END AS type,
                         CASE WHEN i % 10 = 0 THEN 'Failed' ELSE 'Completed' END AS name) AS s`);
  await client.query("ANALYZE flow_runs");
  await client.end();
  console.log(`seeded ${RUNS.toLocaleString()} flow runs in ${Date.now() - started} ms`);
}

async function main(): Promise<void> {
  ensureUiBuilt();
  const port = await freePort();
  let server: ChildProcess | undefined;
  const browser = await launchChromium();
  try {
    await seed();
    server = spawn(process.execPath, ["services/cli/bin/sluice.js", "server", "start"], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        SLUICE_DATABASE_URL: databaseUrl,
        SLUICE_REDIS_PREFIX: name,
        SLUICE_HOST: "127.0.0.1",
        SLUICE_PORT: String(port),
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    for (let i = 0; ; i++) {
      const up = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (i > 300) throw new Error("the server did not start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const page = await (await browser.newContext({ viewport: { width: 1360, height: 900 } })).newPage();
    for (const label of ["cold", "warm", "warm"]) {
      const started = performance.now();
      await page.goto(`http://127.0.0.1:${port}/flow-runs`);
      await page.getByRole("table", { name: "Flow runs" }).locator("tbody tr td a").first().waitFor();
      const elapsed = performance.now() - started;
      const rendered = await page.locator("tbody tr").count();
      const counted = await page.getByText(/[\d,]+ flow runs/).textContent();
      console.log(
        `${label}: first row visible ${elapsed.toFixed(0)} ms after navigation (${rendered} rows in the DOM, "${counted}")`,
      );
    }
    // Scrolling to the end of what is loaded fetches the next page of 200.
    const scrolled = performance.now();
    const table = page.locator(".table-scroll");
    const nextPage = page.waitForResponse((response) => response.url().endsWith("/api/flow_runs/filter"));
    await table.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await nextPage;
    await page.getByRole("link", { name: "perf-run-200", exact: true }).waitFor();
    await table.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await page.getByRole("link", { name: "perf-run-400", exact: true }).waitFor();
    console.log(`scrolled through 400 runs (two pages) in ${(performance.now() - scrolled).toFixed(0)} ms`);
  } finally {
    await browser.close();
    if (server) {
      const exited = new Promise((resolve) => server?.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      await unlinkKeys(redis, `${name}:*`);
    } finally {
      redis.disconnect();
    }
  }
}

await main();
