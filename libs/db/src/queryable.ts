/**
 * Lets the write paths take whatever handle the caller has: a Database, a pg pool or a drizzle db
 * on a Postgres server, or the embedded database (PGlite, or its drizzle handle).
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { AnySluiceDb, Database, SluiceDb } from "./client.js";
import type { EmbeddedDatabase, EmbeddedDb } from "./embedded.js";

export type DbHandle = Database | SluiceDb | pg.Pool | EmbeddedDatabase | EmbeddedDb | PGlite;
type Connection = pg.Pool | pg.PoolClient | pg.Client;

/** One statement of a transaction; `name` lets Postgres servers prepare it once per connection. */
export interface SqlExecutor {
  query<Row = Record<string, unknown>>(statement: { name?: string; text: string; values?: unknown[] }): Promise<Row[]>;
  /**
   * `COPY … FROM STDIN` (`statement`) fed with `text`, rows in COPY's text format (see
   * copy-text.ts): on a Postgres server only, where it costs about half of what inserting the
   * same rows from a jsonb parameter does.
   */
  copyFrom?(statement: string, text: Buffer): Promise<void>;
}

function isPGlite(value: unknown): value is PGlite {
  return typeof value === "object" && value !== null && "waitReady" in value && "dumpDataDir" in value;
}

function targetOf(handle: DbHandle): Connection | PGlite {
  if (handle instanceof pg.Pool) return handle;
  if (isPGlite(handle)) return handle;
  if ("kind" in handle && handle.kind === "embedded") return handle.client;
  if ("pool" in handle && "db" in handle) return handle.pool;
  return (handle as unknown as { $client: Connection | PGlite }).$client;
}

/** Whether transactions on the handle take `copyFrom` (a Postgres server; not PGlite). */
export function takesCopy(handle: DbHandle): boolean {
  return !isPGlite(targetOf(handle));
}

function isPool(connection: Connection): connection is pg.Pool {
  return connection instanceof pg.Pool || "idleCount" in connection;
}

/**
 * Runs one statement on its own (it commits by itself): on a Postgres server on a pooled
 * connection, prepared once per connection when it has a `name`; on PGlite as it is.
 */
export async function queryOnce<Row = Record<string, unknown>>(
  handle: DbHandle | AnySluiceDb,
  statement: { name?: string; text: string; values?: unknown[] },
): Promise<Row[]> {
  const target = targetOf(handle as DbHandle);
  if (isPGlite(target)) return (await target.query<Row>(statement.text, statement.values)).rows;
  return (await target.query(statement)).rows as Row[];
}

/**
 * Runs `work` in one transaction on one connection: a connection checked out of the pool (and
 * returned, or discarded when it broke), the single client the handle wraps, or PGlite.
 */
export async function withTransaction<T>(handle: DbHandle, work: (sql: SqlExecutor) => Promise<T>): Promise<T> {
  const target = targetOf(handle);
  if (isPGlite(target)) {
    return target.transaction((tx) =>
      work({
        query: async <Row>(statement: { text: string; values?: unknown[] }) =>
          (await tx.query<Row>(statement.text, statement.values)).rows,
      }),
    );
  }
  const client = isPool(target) ? await target.connect() : target;
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await work({
        query: async <Row>(statement: { name?: string; text: string; values?: unknown[] }) =>
          (await client.query(statement)).rows as Row[],
        copyFrom: (statement: string, text: Buffer) =>
          pipeline(Readable.from([text]), client.query(copyFrom(statement))),
      });
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    if (isPool(target)) (client as pg.PoolClient).release(broken);
  }
}
