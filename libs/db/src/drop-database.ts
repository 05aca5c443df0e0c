/** Drops the database named in a connection URL (for `sluice db reset`). */
import pg from "pg";
import { databaseNameOf, quoteIdentifier, withDatabaseName } from "./database-url.js";

export async function dropDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: withDatabaseName(url, "postgres") });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(databaseNameOf(url))} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
