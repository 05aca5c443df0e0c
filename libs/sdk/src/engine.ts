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
  /**
   * How a flow run started in this process on its own (not a worker's run, whose worker passes
   * its signal; not a subflow, which follows its parent) hears that it is being cancelled: e.g.
   * `sluice run` in cluster mode listening on the cancellation channel. Without it, such a run
   * cannot be stopped from outside.
   */
  watchCancellation?: (flowRunId: string) => CancellationWatch;
}

/** A flow run's cancellation, as `Engine.watchCancellation` reports it. */
export interface CancellationWatch {
  /** Aborts when the run is cancelled. */
  signal: AbortSignal;
  /** How long the flow body may take to stop once it aborts, before it is abandoned. */
  graceMs: number;
  /** The run ended: stop watching. */
  stop(): void;
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
