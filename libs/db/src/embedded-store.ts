/**
 * The embedded store in a Sluice home directory (SLUICE_HOME, default ~/.sluice):
 *
 *   sluice.lock   held by the one process using the store; others wait for it
 *   db/           the PGlite data directory (same schema and migrations as a Postgres server)
 *
 * Opening takes the lock, opens and migrates the database, and marks the runs a dead process left
 * in progress as Crashed.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "@sluice/core";
import { type AbandonedRuns, crashAbandonedRuns } from "./crash-recovery.js";
import { type EmbeddedDatabase, openEmbeddedDatabase } from "./embedded.js";
import { acquireDirectoryLock, type DirectoryLock, type LockHolder } from "./store-lock.js";

export const STORE_LOCK_FILE = "sluice.lock";

/** Where the embedded database lives in a Sluice home. */
export function embeddedDataDir(home: string): string {
  return join(home, "db");
}

export interface StoreLockOptions {
  /** Called once if another live process holds the store and this one starts waiting for it. */
  onWaiting?: (holder: LockHolder | null) => void;
  /** Gives up after this long (default: waits as long as it takes). */
  timeoutMs?: number;
}

export interface EmbeddedStore {
  home: string;
  database: EmbeddedDatabase;
  /** Runs a dead process had left in progress, now Crashed. */
  recovered: AbandonedRuns;
  /** Closes the database, then releases the lock. Safe to call twice. */
  close(): Promise<void>;
}

export async function openEmbeddedStore(home: string, options: StoreLockOptions = {}): Promise<EmbeddedStore> {
  const lock = await acquireDirectoryLock(home, STORE_LOCK_FILE, options);
  let database: EmbeddedDatabase | undefined;
  try {
    const dataDir = embeddedDataDir(home);
    try {
      database = await openEmbeddedDatabase(dataDir);
    } catch (error) {
      throw new UnavailableError(
        `Cannot open the embedded database in ${dataDir}: ${(error as Error).message}. ` +
          "If it is damaged, `npx sluice db reset` clears it.",
        { cause: error },
      );
    }
    const recovered = await crashAbandonedRuns(database, { message: crashMessage(lock) });
    const opened = database;
    let closing: Promise<void> | undefined;
    return {
      home,
      database: opened,
      recovered,
      close: () => {
        closing ??= opened.close().finally(() => lock.release());
        return closing;
      },
    };
  } catch (error) {
    await database?.close().catch(() => {});
    lock.release();
    throw error;
  }
}

/** Deletes the embedded database (it is created afresh on next use); false when there was none. */
export async function resetEmbeddedStore(home: string, options: StoreLockOptions = {}): Promise<boolean> {
  const lock = await acquireDirectoryLock(home, STORE_LOCK_FILE, options);
  try {
    const dataDir = embeddedDataDir(home);
    const existed = existsSync(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
    return existed;
  } finally {
    lock.release();
  }
}

function crashMessage(lock: DirectoryLock): string {
  const who = lock.staleHolder ? ` (pid ${lock.staleHolder.pid})` : "";
  return `The Sluice process running this run${who} exited before the run finished`;
}
