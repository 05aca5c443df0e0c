/**
 * The embedded store's footprint: runs the ETL example N times in embedded mode in a fresh
 * SLUICE_HOME (one flow run, three task runs, ~10 log lines and the `users` table each time; the
 * first run fills the cache, the others hit it) and reports the size of SLUICE_HOME as it grows.
 *
 *   npx tsx bench/embedded-home.ts [runs=1000] [--cli=20]
 *
 * The runs share one process (one open store); `--cli=K` also times K `sluice run` commands on
 * the same home, each opening and closing the store as a user's commands do.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configureEngine } from "@sluice/sdk";
import { createLogger } from "@sluice/telemetry";
import { etlPipeline } from "../examples/flows/etl_pipeline.js";
import { loadConfig } from "../services/cli/src/config.js";
import { startEmbeddedEngine } from "../services/cli/src/modes/embedded.js";

const runs = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 1000);
const cliRuns = Number(process.argv.find((arg) => arg.startsWith("--cli="))?.slice(6) ?? 0);
const home = mkdtempSync(join(tmpdir(), "sluice-bench-home-"));
const du = (path: string) => Number(execFileSync("du", ["-sk", path], { encoding: "utf8" }).split("\t")[0]) * 1024;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

try {
  const config = loadConfig({ SLUICE_HOME: home, SLUICE_EMBEDDED: "1", LOG_LEVEL: "silent" });
  const logger = createLogger({ service: "bench", level: "silent" });
  let started = Date.now();
  let running = await startEmbeddedEngine(config, logger);
  console.log(`fresh store created and migrated in ${Date.now() - started} ms: ${mb(du(home))}`);
  running.engine.onLog = undefined;
  configureEngine(running.engine);
  started = Date.now();
  for (let i = 1; i <= runs; i++) {
    await etlPipeline({});
    if (i % 100 === 0 || i === runs) {
      await running.engine.events.flush();
      const seconds = (Date.now() - started) / 1000;
      console.log(`${i} runs in ${seconds.toFixed(1)} s (${(i / seconds).toFixed(1)} runs/s): ${mb(du(home))}`);
    }
  }
  await running.close();
  configureEngine(undefined);
  running = await startEmbeddedEngine(config, logger); // reopened: a checkpoint has run, WAL recycled
  const counts = await running.store.database.client.query<{ runs: number; tasks: number; logs: number }>(
    "SELECT (SELECT count(*) FROM flow_runs)::int AS runs, (SELECT count(*) FROM task_runs)::int AS tasks, (SELECT count(*) FROM logs)::int AS logs",
  );
  await running.close();
  const row = counts.rows[0];
  console.log(
    `after ${runs} runs (${row?.runs} flow runs, ${row?.tasks} task runs, ${row?.logs} log lines): ` +
      `SLUICE_HOME ${mb(du(home))} (db/base ${mb(du(join(home, "db", "base")))}, db/pg_wal ${mb(du(join(home, "db", "pg_wal")))})`,
  );
  if (cliRuns > 0) {
    const times: number[] = [];
    for (let i = 0; i < cliRuns; i++) {
      const t = Date.now();
      execFileSync(
        process.execPath,
        ["services/cli/bin/sluice.js", "run", "examples/flows/etl_pipeline.ts", "--embedded"],
        {
          env: { ...process.env, SLUICE_HOME: home, LOG_LEVEL: "silent" },
          stdio: "ignore",
        },
      );
      times.push(Date.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${cliRuns} \`sluice run\` commands on that home: median ${times[Math.floor(times.length / 2)]} ms; SLUICE_HOME ${mb(du(home))}`,
    );
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
