/**
 * The ETL example: extract users from an HTTP API, clean them up, load them into a table.
 *
 *   npx sluice run examples/flows/etl_pipeline.ts
 *
 * With no `apiUrl` it serves (while extracting) a local fixture of jsonplaceholder-like users itself, and with no
 * `dbUrl` it loads into Sluice's own database (Postgres, or the embedded one).
 */
import { flow, getRunLogger, task, taskInputHash, useDatabase } from "@sluice/sdk";
import pg from "pg";
import { z } from "zod";
import { fixtureUrl, withUsersFixture } from "./fixtures/users-server.js";

type Row = Record<string, unknown>;
/** Where a step's progress lines go: the run logger in a run, anything (or nothing) in plain calls. */
type Log = (message: string) => void;
const runLog: Log = (message) => getRunLogger().info(message);

/** The extract step as a plain function (the `extract_data` task calls it; benchmarks call it directly). */
export async function extractUsers(apiUrl: string, log: Log): Promise<Row[]> {
  log(`Extracting data from ${apiUrl}`);
  const rows = await withUsersFixture(apiUrl, async () => {
    const response = await fetch(apiUrl);
    if (!response.ok) throw new Error(`GET ${apiUrl} answered ${response.status}`);
    return (await response.json()) as Row[];
  });
  log(`Extracted ${rows.length} records`);
  return rows;
}

/** The transform step as a plain function: drops duplicate ids and rows missing an id or a name. */
export function transformUsers(raw: Row[], log: Log): Row[] {
  const seen = new Set<unknown>();
  const rows: Row[] = [];
  for (const record of raw) {
    const row = normaliseColumns(record);
    if (row.id === undefined || row.id === null || !row.name) continue;
    if (seen.has(row.id)) continue;
    seen.add(row.id);
    if (typeof row.created_at === "string") row.created_at = new Date(row.created_at);
    rows.push(row);
  }
  log(`Transformed ${raw.length} records into ${rows.length} rows`);
  return rows;
}

/** The load step as a plain function: (re)creates `tableName` in the database at `dbUrl`, in one transaction. */
export async function loadUsers(rows: Row[], tableName: string, dbUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  // A connection the server ends (a restart) fails the query in hand; without a listener it would
  // also crash the whole process with an unhandled 'error' event.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("BEGIN");
    await loadRows(client, rows, tableName);
    await client.query("COMMIT");
  } finally {
    await client.end();
  }
  return rows.length;
}

export const extractData = task(
  { name: "extract_data", retries: 3, retryDelaySeconds: 10, cacheKeyFn: taskInputHash, cacheExpiration: "1h" },
  (apiUrl: string): Promise<Row[]> => extractUsers(apiUrl, runLog),
);

export const transformData = task(
  { name: "transform_data" },
  async (raw: Row[]): Promise<Row[]> => transformUsers(raw, runLog),
);

export const loadData = task(
  { name: "load_data" },
  async (rows: Row[], tableName: string, dbUrl?: string): Promise<number> => {
    if (dbUrl) await loadUsers(rows, tableName, dbUrl);
    else await useDatabase().transaction((db) => loadRows(db, rows, tableName));
    getRunLogger().info(`Loaded ${rows.length} rows into ${tableName}`);
    return rows.length;
  },
);

export const etlPipeline = flow(
  {
    name: "ETL Pipeline",
    logPrints: true,
    parameters: z.object({
      apiUrl: z.string().url().default(fixtureUrl()),
      tableName: z
        .string()
        .regex(/^[a-z_][a-z0-9_]*$/, "must be a lower_snake_case table name")
        .default("users"),
      dbUrl: z.string().optional(),
    }),
  },
  async ({ apiUrl, tableName, dbUrl }) => {
    const raw = await extractData(apiUrl);
    const rows = await transformData(raw);
    const count = await loadData(rows, tableName, dbUrl);
    console.log(`Pipeline complete: ${count} rows loaded into ${tableName}`);
    return count;
  },
);

interface Queryable {
  query(text: string, params?: unknown[]): Promise<unknown>;
}

/** Rows per INSERT: a statement takes at most 65,535 parameters. */
const INSERT_BATCH_ROWS = 1000;

async function loadRows(db: Queryable, rows: Row[], tableName: string): Promise<void> {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const columnSql = columns.map((c) => `"${c}" ${columnType(c)}${c === "id" ? " PRIMARY KEY" : ""}`).join(", ");
  await db.query(`DROP TABLE IF EXISTS "${tableName}"`);
  await db.query(`CREATE TABLE "${tableName}" (${columnSql})`);
  for (let start = 0; start < rows.length; start += INSERT_BATCH_ROWS) {
    const params: unknown[] = [];
    const values = rows
      .slice(start, start + INSERT_BATCH_ROWS)
      .map(
        (row) =>
          `(${columns.map((c) => `$${params.push(row[c] instanceof Date ? row[c] : (row[c] ?? null))}`).join(", ")})`,
      );
    await db.query(
      `INSERT INTO "${tableName}" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES ${values.join(", ")}`,
      params,
    );
  }
}

/** Flattens nested objects ({ address: { zipCode } } → address_zip_code) and snake_cases every key. */
export function normaliseColumns(record: Row, prefix = ""): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(record)) {
    const column = toSnakeCase(prefix ? `${prefix}_${key}` : key);
    if (value && typeof value === "object" && !Array.isArray(value))
      Object.assign(out, normaliseColumns(value as Row, column));
    else out[column] = value;
  }
  return out;
}

export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toLowerCase();
}

function columnType(column: string): string {
  if (column === "id") return "bigint";
  if (column === "created_at") return "timestamptz";
  return "text";
}
