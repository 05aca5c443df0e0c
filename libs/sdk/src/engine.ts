/**
 * The engine's wiring: which event sink, cache, dispatcher and lease store runs use. It is set
 * once at start-up by whoever hosts the flow (the `sluice` CLI, a worker, a test).
 */
import {
  type CacheStore,
  ConfigurationError,
  type EventSink,
  type LeaseStore,
  type LogEvent,
  type SqlDatabase,
  type TagLimitLookup,
  type TaskDispatcher,
} from "@sluice/core";

export interface Engine {
  events: EventSink;
  cache: CacheStore;
  dispatcher: TaskDispatcher;
  leases: LeaseStore;
  /** The database flow code may load data into (see `useDatabase()`); optional. */
  database?: SqlDatabase;
  /** Called for every run log line, to show it to the user (console output). */
  onLog?: (event: LogEvent, runLabel: string) => void;
  /** The limits set on tags; without it, tags limit nothing. */
  tagLimits?: TagLimitLookup;
  /** Lease time-to-live for concurrency slots; renewed while held. */
  leaseTtlMs?: number;
}

let current: Engine | undefined;

export function configureEngine(engine: Engine | undefined): void {
  current = engine;
}

export function currentEngine(): Engine {
  if (!current) {
    throw new ConfigurationError(
      "No Sluice engine is configured: run flows with `npx sluice run FILE`, or call configureEngine() first",
    );
  }
  return current;
}
