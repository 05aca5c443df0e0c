/** Lets the write paths take whatever handle the caller has: a Database, a pg pool or a drizzle db. */
import pg from "pg";
import type { Database, SluiceDb } from "./client.js";

export type DbHandle = Database | SluiceDb | pg.Pool;
type Connection = pg.Pool | pg.PoolClient | pg.Client;

function connectionOf(handle: DbHandle): Connection {
  if (handle instanceof pg.Pool) return handle;
  if ("pool" in handle && "db" in handle) return handle.pool;
  return (handle as SluiceDb & { $client: Connection }).$client;
}

function isPool(connection: Connection): connection is pg.Pool {
  return connection instanceof pg.Pool || "idleCount" in connection;
}

/**
 * Runs `work` in one transaction on one connection: a connection checked out of the pool (and
 * returned, or discarded when it broke), or the single client the handle wraps.
 */
export async function withTransaction<T>(handle: DbHandle, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const connection = connectionOf(handle);
  const client = isPool(connection) ? await connection.connect() : connection;
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    if (isPool(connection)) (client as pg.PoolClient).release(broken);
  }
}
