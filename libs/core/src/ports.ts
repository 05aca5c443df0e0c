/**
 * The engine's collaborators, as small interfaces. Each has a Redis/Postgres implementation
 * (cluster mode) and an in-process one (embedded mode), chosen once at start-up.
 */
import type { RunEvent } from "./events.js";

/** Where run events go: a Redis stream in cluster mode, straight to the recorder in embedded mode. */
export interface EventSink {
  /** Queues the event; never blocks the run on I/O. */
  emit(event: RunEvent): void;
  /** Resolves once every emitted event has been handed over durably (throws if that failed). */
  flush(): Promise<void>;
}

export interface CachedResult {
  taskRunId: string;
  result: unknown;
  /** ISO timestamp, or null for "never expires". */
  expiresAt: string | null;
}

/** Task results shared by cache key across processes and restarts. */
export interface CacheStore {
  get(cacheKey: string): Promise<CachedResult | null>;
  set(cacheKey: string, entry: CachedResult): Promise<void>;
}

export interface Lease {
  release(): Promise<void>;
}

/** Concurrency slots: at most `limit` holders of `limitKey` at once; a holder that dies loses its slot after `ttlMs`. */
export interface LeaseStore {
  acquire(
    limitKey: string,
    limit: number,
    holder: string,
    options: { ttlMs: number; signal?: AbortSignal },
  ): Promise<Lease>;
}

/** Runs submitted task runs (`.submit()`, `.map()`) with bounded concurrency. */
export interface TaskDispatcher {
  dispatch<T>(run: () => Promise<T>): Promise<T>;
}

/** SQL access for flow code (the example loads its table through it), Postgres or embedded. */
export interface SqlDatabase {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  transaction<T>(work: (tx: Pick<SqlDatabase, "query">) => Promise<T>): Promise<T>;
}
