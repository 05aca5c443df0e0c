/**
 * W4 ETL batches: 200 runs of the example ETL pipeline (examples/flows/etl_pipeline.ts), each
 * extracting a 10,000-user fixture over HTTP, cleaning it and loading it into a table of its own,
 * on two workers; against the same extract/transform/load functions called as plain functions in
 * one process with as many pipelines at once as the two workers run (2 × --limit). Each run asks
 * for its own batch (`?batch=i`), so extract_data's cache never answers for it.
 */
import { extractUsers, loadUsers, transformUsers } from "../../examples/flows/etl_pipeline.js";
import { startUsersFixture } from "../../examples/flows/fixtures/users-server.js";
import {
  BenchError,
  createFlowRun,
  epochMs,
  freePort,
  type SluiceCluster,
  WORKER_LIMIT,
  waitForFlowRuns,
} from "../cluster.js";
import { type BenchContext, formatCount, mapLimit, now } from "../context.js";
import { round, VARIANT } from "../results.js";

const WARM_UP_RUNS = 2;

async function dropTables(cluster: SluiceCluster, names: string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 100) {
    const list = names.slice(i, i + 100).map((name) => `"${name}"`);
    await cluster.pool.query(`DROP TABLE IF EXISTS ${list.join(", ")}`);
  }
}

async function checkLoaded(cluster: SluiceCluster, table: string, expected: number): Promise<void> {
  const { rows } = await cluster.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`);
  if (rows[0]?.n !== expected) throw new BenchError(`${table} has ${rows[0]?.n} rows, expected ${expected}`);
}

export async function etlSluice(ctx: BenchContext, cluster: SluiceCluster): Promise<void> {
  const { etlRuns: runs, etlRows: users, etlConcurrency: concurrency } = ctx.sizes;
  const fixture = await startUsersFixture(await freePort(), { users });
  const apiUrl = (batch: string | number) => `${fixture.url}?batch=${batch}`;
  const dbUrl = cluster.databaseUrl;
  const tables = (kind: string, count: number) => Array.from({ length: count }, (_, i) => `etl_${kind}_${i}`);
  const noLog = () => {};
  try {
    const deployment = await cluster.deployment("ETL Pipeline", "bench-etl");
    const pipeline = (table: string, batch: string | number) =>
      createFlowRun(cluster, deployment, { apiUrl: apiUrl(batch), tableName: table, dbUrl });
    const plain = async (table: string, batch: string | number) => {
      const raw = await extractUsers(apiUrl(batch), noLog);
      await loadUsers(transformUsers(raw, noLog), table, dbUrl);
    };

    // Warm-up (module loading, JIT), then empty tables.
    const warmUp = tables("warmup", WARM_UP_RUNS);
    await waitForFlowRuns(cluster, await Promise.all(warmUp.map((t) => pipeline(t, t))), "the warm-up runs");
    await Promise.all(warmUp.map((t) => plain(`${t}_plain`, t)));
    await dropTables(cluster, [...warmUp, ...warmUp.map((t) => `${t}_plain`)]);
    await cluster.truncateRuns();

    // Sluice: every run through create_flow_run, two workers.
    const sluiceTables = tables("sluice", runs);
    let sent = now();
    const ids = await mapLimit(runs, 10, (i) => pipeline(sluiceTables[i] as string, i));
    await waitForFlowRuns(
      cluster,
      ids,
      "every ETL run Completed",
      (n) => ctx.progress.update((0.6 * n) / runs, `sluice: ${n}/${runs} runs Completed`),
      100,
    );
    const { rows } = await cluster.pool.query<{ ms: number | null }>(
      `SELECT max(${epochMs("timestamp")}) AS ms FROM flow_run_states WHERE flow_run_id = ANY($1) AND type = 'COMPLETED'`,
      [ids],
    );
    const sluiceSeconds = ((rows[0]?.ms ?? Number.NaN) - sent) / 1000;
    await checkLoaded(cluster, sluiceTables[0] as string, users);
    await checkLoaded(cluster, sluiceTables.at(-1) as string, users);
    await dropTables(cluster, sluiceTables);

    // The same functions, plain calls in this process.
    const plainTables = tables("plain", runs);
    let done = 0;
    sent = now();
    await mapLimit(runs, concurrency, async (i) => {
      await plain(plainTables[i] as string, i);
      done++;
      ctx.progress.update(0.6 + (0.4 * done) / runs, `plain calls: ${done}/${runs} pipelines`);
    });
    const plainSeconds = (now() - sent) / 1000;
    await checkLoaded(cluster, plainTables[0] as string, users);
    await dropTables(cluster, plainTables);

    const rowsLoaded = runs * users;
    const rate = (seconds: number) => `${formatCount(Math.round(rowsLoaded / seconds))} rows/s`;
    const what = `${runs} runs × ${formatCount(users)} users (${formatCount(rowsLoaded)} rows loaded)`;
    ctx.record({
      workload: "W4",
      system: "sluice",
      variant: VARIANT.etl,
      metric: "seconds",
      value: round(sluiceSeconds),
      notes: `${what}, create_flow_run of the first → last Completed on 2 workers (--limit ${WORKER_LIMIT}): ${rate(sluiceSeconds)}`,
    });
    ctx.record({
      workload: "W4",
      system: "sluice",
      variant: VARIANT.etlPlain,
      metric: "seconds",
      value: round(plainSeconds),
      notes: `${what}, extractUsers → transformUsers → loadUsers called directly, ${concurrency} pipelines at once in one process: ${rate(plainSeconds)}`,
    });
    ctx.record({
      workload: "W4",
      system: "sluice",
      variant: VARIANT.etl,
      metric: "overhead_pct",
      value: round(((sluiceSeconds - plainSeconds) / plainSeconds) * 100),
      notes: `orchestrated time over plain calls' time, minus 1 (${sluiceSeconds.toFixed(2)} s vs ${plainSeconds.toFixed(2)} s)`,
    });
  } finally {
    await fixture.close();
  }
}
