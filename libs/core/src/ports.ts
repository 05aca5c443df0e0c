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
  /**
   * Keeps `entry` as JSON: a later reader gets what a JSON round trip of the result gives back,
   * whatever the caller does to the value afterwards. Each store serializes it once, itself.
   */
  set(cacheKey: string, entry: CachedResult): Promise<void>;
}

export interface Lease {
  release(): Promise<void>;
}

/** Concurrency slots: at most `limit` holders of `limitKey` at once; a holder that dies loses its slot after `ttlMs`. */
export interface LeaseStore {
  acquire(limitKey: string, limit: number, holder: string, options: AcquireOptions): Promise<Lease>;
  /** Rate limit: resolves when one of at most `max` starts per `windowMs` (sliding window) is ours. */
  throttle(limitKey: string, max: number, windowMs: number, options: Omit<AcquireOptions, "ttlMs">): Promise<void>;
}

export interface AcquireOptions {
  ttlMs: number;
  signal?: AbortSignal;
  /** Called once if no slot is free right away (the run is then AwaitingConcurrencySlot). */
  onWait?: () => void;
}

/** The concurrency limits set on tags (Prefect's `concurrency-limit create TAG N`): tag → limit, for the tags that have one. */
export type TagLimitLookup = (tags: readonly string[]) => Promise<Map<string, number>>;

/** A submitted task run (`.submit()`, `.map()`), described so that another process can run it. */
export interface TaskRunRequest {
  /** Chosen by the submitter, so a redelivered request is the same task run. */
  taskRunId: string;
  taskName: string;
  /** Absolute path of the module that defines the task (null when unknown: it can only run here). */
  definedIn: string | null;
  args: unknown[];
  /** Its index among the runs of this task in the flow run ("load_chunk-3"). */
  dynamicKey: number;
  flowRun: { id: string; name: string; flowName: string } | null;
  logPrints: boolean;
  /** `.delay()`: fire and forget; `dispatch` resolves (with undefined) once the run is handed over. */
  detached?: boolean;
  /** W3C trace context (`traceparent`) of the submitting span, set by a dispatcher that queues the run. */
  traceContext?: Record<string, string>;
  /**
   * The task has tags, a concurrency limit or a rate limit: its run may wait for a slot, which a
   * queued run does on a job of its own (runs without limits may share a job, see task-run-queue.ts).
   */
  limited?: boolean;
}

/**
 * Runs submitted task runs: in this process with bounded concurrency (embedded mode, `sluice run`),
 * or on any worker of the pool through its task queue. `runHere` runs the request in this process.
 */
export interface TaskDispatcher {
  dispatch<T>(request: TaskRunRequest, runHere: () => Promise<T>): Promise<T>;
  /** Resolves once the detached runs started in this process have finished (before shutting down). */
  drain?(): Promise<void>;
}

/** SQL access for flow code (the example loads its table through it), Postgres or embedded. */
export interface SqlDatabase {
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  transaction<T>(work: (tx: Pick<SqlDatabase, "query">) => Promise<T>): Promise<T>;
}

/** The lease key of a tag's concurrency limit (the engine takes slots under it; the API shows who holds them). */
export function tagLimitKey(tag: string): string {
  return `tag:${tag}`;
}
