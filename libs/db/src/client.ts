/** The connection pool and the typed drizzle handle every service uses. */
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import pg from "pg";
import { drizzlePostgres } from "./drizzle.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;
/** The drizzle handle on a Postgres server (node-postgres). */
export type SluiceDb = NodePgDatabase<Schema>;
/** Any drizzle handle on the Sluice schema: a Postgres server's (SluiceDb) or the embedded PGlite one. */
export type AnySluiceDb = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseOptions {
  /** Maximum connections in the pool (pg's default is 10). */
  max?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Any other pg pool settings. */
  pool?: Omit<pg.PoolConfig, "connectionString">;
  /**
   * Called when an idle pooled connection fails (e.g. Postgres restarted). The pool drops the
   * connection and opens a new one on demand; without a handler the error is ignored instead of
   * crashing the process.
   */
  onPoolError?: (error: Error) => void;
}

export interface Database {
  pool: pg.Pool;
  db: SluiceDb;
  /** Closes every connection of the pool. */
  close(): Promise<void>;
}

export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const pool = new pg.Pool({
    ...options.pool,
    connectionString: url,
    ...(options.max !== undefined ? { max: options.max } : {}),
    ...(options.applicationName !== undefined ? { application_name: options.applicationName } : {}),
  });
  pool.on("error", options.onPoolError ?? (() => {}));
  const db = drizzlePostgres({ client: pool, schema });
  let closing: Promise<void> | undefined;
  return {
    pool,
    db,
    close: () => {
      closing ??= pool.end();
      return closing;
    },
  };
}
