/**
 * The embedded database: PGlite (Postgres compiled to WebAssembly, in this process) on a data
 * directory, with the same drizzle schema and migrations as a Postgres server. One process at a
 * time may open a data directory: callers hold the store lock (see embedded-store.ts).
 */
import { mkdirSync } from "node:fs";
import type { PGlite } from "@electric-sql/pglite";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import type { Schema } from "./client.js";
import { pgliteDrizzle } from "./drizzle.js";
import { MIGRATIONS_FOLDER } from "./migrate.js";
import * as schema from "./schema.js";

export type EmbeddedDb = PgliteDatabase<Schema>;

export interface EmbeddedDatabase {
  kind: "embedded";
  /** The PGlite instance (raw SQL: `client.query(text, params)`). */
  client: PGlite;
  /** The drizzle handle on it. */
  db: EmbeddedDb;
  dataDir: string;
  /** Flushes and closes PGlite. Safe to call twice. */
  close(): Promise<void>;
}

/** Opens (creating it on first use) the PGlite database in `dataDir` and applies pending migrations. */
export async function openEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabase> {
  mkdirSync(dataDir, { recursive: true });
  // Loaded only here: PGlite's WebAssembly Postgres weighs ~40 MB, which servers and workers never need.
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle, migrate } = pgliteDrizzle();
  const client = await PGlite.create(dataDir, {
    // Postgres keeps up to 80 MB of WAL segments by default; two (32 MB) is plenty for a store on a laptop.
    startParams: [...PGlite.defaultStartParams, "-c", "min_wal_size=32MB", "-c", "max_wal_size=32MB"],
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= client.closed ? Promise.resolve() : client.close();
    return closing;
  };
  try {
    await client.exec("SET client_min_messages = warning"); // no NOTICEs for IF NOT EXISTS
    const db = drizzle({ client, schema });
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return { kind: "embedded", client, db, dataDir, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
