/** Brings a database to the current schema with the drizzle-kit generated migrations. */
import { fileURLToPath } from "node:url";
import pg from "pg";
import { drizzlePostgres, migratePostgres } from "./drizzle.js";
import { ensureDatabase } from "./ensure-database.js";

/** The folder of numbered SQL migrations shipped with this package. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../migrations", import.meta.url));

/** Arbitrary but fixed key of the advisory lock that serialises migrations on one database. */
const MIGRATION_LOCK_KEY = 0x51_1c_e0_db;

/**
 * Creates the database if missing, then applies the pending migrations. Safe to run repeatedly
 * and from several processes at once (they queue on a Postgres advisory lock). All connections
 * are closed on return, so the database can serve as a template right after.
 */
export async function migrateDatabase(url: string): Promise<void> {
  await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SET client_min_messages = warning"); // no NOTICEs for IF NOT EXISTS
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await migratePostgres(drizzlePostgres({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      // Ending the session releases the lock anyway; do not let a failed unlock hide the real error.
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}
