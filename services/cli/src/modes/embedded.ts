/**
 * Embedded mode for `sluice run`: no servers. The store is PGlite in SLUICE_HOME (same schema and
 * migrations as Postgres); events go straight to the batch writer, the task cache lives in the
 * store, queued task runs and concurrency slots live in this process. Only one process uses a
 * store at a time: another one waits until this one closes it.
 */
import { hostname } from "node:os";
import {
  type AbandonedRuns,
  type EmbeddedStore,
  getCacheEntry,
  getTagLimits,
  isDataError,
  type LockHolder,
  openEmbeddedStore,
  recordEvents,
  STORE_LOCK_FILE,
} from "@sluice/db";
import { type Engine, InProcessTaskDispatcher, MemoryLeaseStore } from "@sluice/sdk";
import type { Logger } from "@sluice/telemetry";
import type { CliConfig } from "../config.js";
import { printRunLog } from "../console-output.js";
import { BatchingEventSink } from "./batching-event-sink.js";
import type { RunningEngine } from "./cluster.js";
import { pgliteSqlDatabase } from "./pglite-sql-database.js";
import { StoreCacheStore } from "./store-cache-store.js";

export interface EmbeddedRunningEngine extends RunningEngine {
  /** The open store (tests read the record through `store.database`). */
  store: EmbeddedStore;
}

export interface OpenStoreOptions {
  /** Called once if another process holds the store and we wait for it. */
  onWaiting?: (holder: LockHolder | null) => void;
  /** Called when opening the store found runs a dead process left in progress (now Crashed). */
  onRecovered?: (recovered: AbandonedRuns) => void;
}

/** Store notices for a person at a terminal, on stderr (stdout stays the command's output). */
export function consoleStoreNotices(home: string): OpenStoreOptions {
  return {
    onWaiting: (holder) => process.stderr.write(waitingForStoreMessage(home, holder)),
    onRecovered: ({ flowRunIds }) => {
      if (flowRunIds.length === 0) return;
      const runs = flowRunIds.length === 1 ? "1 flow run" : `${flowRunIds.length} flow runs`;
      process.stderr.write(`${runs} left unfinished by a sluice process that exited marked Crashed\n`);
    },
  };
}

export async function startEmbeddedEngine(
  config: CliConfig,
  logger: Logger,
  options: OpenStoreOptions = {},
): Promise<EmbeddedRunningEngine> {
  const store = await openEmbeddedStore(config.home, { onWaiting: options.onWaiting });
  options.onRecovered?.(store.recovered);
  const events = new BatchingEventSink({
    write: (batch) => recordEvents(store.database, batch),
    isDataError,
    onDropped: (dropped, error) =>
      logger.error({ err: error, events: dropped }, "the embedded database rejected run events; they were dropped"),
  });
  const cache = new StoreCacheStore(async (cacheKey) => {
    const entry = await getCacheEntry(store.database.db, cacheKey);
    return (
      entry && { taskRunId: entry.taskRunId, result: entry.result, expiresAt: entry.expiresAt?.toISOString() ?? null }
    );
  }, events);
  const engine: Engine = {
    events,
    cache,
    leases: new MemoryLeaseStore(),
    tagLimits: (tags) => getTagLimits(store.database.db, tags),
    dispatcher: new InProcessTaskDispatcher(),
    database: pgliteSqlDatabase(store.database.client),
    onLog: (event, label) => printRunLog(event, label),
  };
  let closing: Promise<void> | undefined;
  return {
    engine,
    store,
    description: `embedded mode: runs recorded in ${config.home} (PGlite)`,
    close: () => {
      // Detached (.delay()) task runs finish and are recorded before the store closes.
      closing ??= (async () => {
        await engine.dispatcher.drain?.();
        await events.flush();
      })().finally(() => store.close());
      return closing;
    },
  };
}

/** "Waiting for another sluice process (pid N) using ~/.sluice…", for whoever waits for the store. */
export function waitingForStoreMessage(home: string, holder: LockHolder | null): string {
  if (!holder) return `Waiting for another sluice process using ${home}…\n`;
  const where = holder.hostname && holder.hostname !== hostname() ? ` on ${holder.hostname}` : "";
  const hint = where ? ` (if it is no longer running, delete ${home}/${STORE_LOCK_FILE})` : "";
  return `Waiting for another sluice process (pid ${holder.pid}${where}) using ${home}…${hint}\n`;
}
