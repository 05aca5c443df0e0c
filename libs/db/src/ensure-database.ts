/** Creates the database named in a connection URL when it does not exist yet. */
import pg from "pg";
import { databaseNameOf, quoteIdentifier, withDatabaseName } from "./database-url.js";
import { pgErrorCode as pgCode } from "./errors.js";

const INVALID_CATALOG_NAME = "3D000";
const DUPLICATE_DATABASE = "42P04";
const UNIQUE_VIOLATION = "23505";
/** "source database is being accessed by other users" (the template is busy for a moment). */
const OBJECT_IN_USE = "55006";

/**
 * Makes sure the database named in `url` exists, creating it through a maintenance database of
 * the same server (`postgres`, else `template1`) when missing. Returns true when this call
 * created it. Safe when several processes race to create it: the loser sees it exists.
 */
export async function ensureDatabase(url: string): Promise<boolean> {
  const name = databaseNameOf(url);
  if (await canConnect(url)) return false;

  let lastError: unknown;
  for (const maintenance of ["postgres", "template1"]) {
    if (maintenance === name) continue;
    const client = new pg.Client({ connectionString: withDatabaseName(url, maintenance) });
    try {
      await client.connect();
    } catch (error) {
      lastError = error;
      if (pgCode(error) === INVALID_CATALOG_NAME) continue;
      throw error;
    }
    try {
      return await createIfMissing(client, name);
    } finally {
      await client.end().catch(() => {});
    }
  }
  throw lastError ?? new Error(`No maintenance database to create ${name} from`);
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if (pgCode(error) === INVALID_CATALOG_NAME) return false;
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createIfMissing(client: pg.Client, name: string): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (error) {
      const code = pgCode(error);
      // Another process created it between our check and our CREATE.
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) return false;
      // Someone is connected to template1 right now: wait a moment and try again.
      if (code === OBJECT_IN_USE && attempt < 20) {
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        continue;
      }
      throw error;
    }
  }
}
