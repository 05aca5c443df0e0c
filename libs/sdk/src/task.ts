/** `task()`: a function whose calls inside a flow are recorded as task runs, with retries, caching and limits. */
import {
  type Duration,
  describeError,
  hashTaskInputs,
  type Lease,
  newRunId,
  parseDuration,
  type TaskRunRequest,
} from "@sluice/core";
import { type RetryOptions, runAttempts } from "./attempts.js";
import { callerFile } from "./caller-file.js";
import { acquireSlots, releaseSlots, type SlotAcquirer } from "./concurrency-slots.js";
import { currentRunContext, type RunContext, runContextStorage } from "./context.js";
import { currentEngine } from "./engine.js";
import { MappedFutures, TaskRunFuture, type TaskRunObserver } from "./futures.js";
import { installPrintCapture } from "./print-capture.js";
import { traceTaskRun } from "./run-spans.js";
import { createTaskRunRecord, nextDynamicKey } from "./task-run-record.js";

export interface TaskCacheContext {
  taskKey: string;
  taskName: string;
  flowRunId: string | null;
}

export interface TaskOptions<Args extends unknown[]> extends RetryOptions {
  name: string;
  description?: string;
  tags?: string[];
  /** Computes the cache key for a call; a result cached under the same key is reused (state Cached). */
  cacheKeyFn?: (context: TaskCacheContext, args: Args) => string | null | undefined;
  /** How long a cached result stays valid: milliseconds or "30s", "1h", ... (default: forever). */
  cacheExpiration?: Duration;
  /** Run the task even when a cached result exists, and replace it. */
  refreshCache?: boolean;
  /** Capture console.log/console.info as run logs (default: the flow's setting). */
  logPrints?: boolean;
  /** At most this many runs of this task at once, across every process sharing the lease store. */
  concurrencyLimit?: number;
  /** At most `max` runs of this task start per `durationMs` (sliding window), across every worker. */
  rateLimit?: { max: number; durationMs: number };
}

export interface Task<Args extends unknown[], Result> {
  (...args: Args): Promise<Result>;
  readonly kind: "task";
  readonly taskName: string;
  readonly options: TaskOptions<Args>;
  /** Starts the task run concurrently and returns its future. */
  submit(...args: Args): TaskRunFuture<Result>;
  /** Fire and forget: hands the task run over (to any worker of the pool) without waiting for it. */
  delay(...args: Args): Promise<void>;
  /** One task run per element of the array arguments (other arguments, and `unmapped()` ones, are shared). */
  map(...args: MapArgs<Args>): MappedFutures<Result>;
  /** The file that defines the task, for workers to load it. */
  readonly definedIn: string | null;
  /** Runs a request submitted elsewhere, inside a run context (see `runTaskRunRequest`). */
  runRequest(request: TaskRunRequest, options?: QueuedRunOptions): Promise<Result>;
}

/** How a worker runs a queued task run (see `runTaskRunRequest`). */
export interface QueuedRunOptions {
  /** The run's creation and first states were recorded already, by an earlier pick of its job. */
  recorded?: boolean;
  /**
   * Takes the run's concurrency slots instead of waiting for them here: e.g. by giving the run's
   * job back until a slot frees (it throws then, and the run ends here without running). The
   * leases it returns are released when the run ends. Not called for a task without limits.
   */
  acquireSlots?: SlotAcquirer;
}

interface NamedRun extends QueuedRunOptions {
  id: string;
  dynamicKey: number;
}

const UNMAPPED = Symbol("sluice.unmapped");
export interface Unmapped<T> {
  [UNMAPPED]: true;
  value: T;
}
/** Marks a `.map()` argument as shared by every mapped run, even if it is an array. */
export function unmapped<T>(value: T): Unmapped<T> {
  return { [UNMAPPED]: true, value };
}
type MapArgs<Args extends unknown[]> = { [K in keyof Args]: readonly Args[K][] | Unmapped<Args[K]> | Args[K] };

/** Cache key from the task and its inputs: the same inputs (whatever the key order of objects) hit the cache. */
export function taskInputHash(context: TaskCacheContext, args: unknown[]): string {
  return hashTaskInputs(context.taskKey, args);
}

export function task<Args extends unknown[], Result>(
  options: TaskOptions<Args>,
  fn: (...args: Args) => Promise<Result> | Result,
): Task<Args, Result> {
  const taskKey = options.name;
  const expirationMs = options.cacheExpiration === undefined ? null : parseDuration(options.cacheExpiration);

  const definedIn = callerFile();
  const limited = (options.tags?.length ?? 0) > 0 || options.concurrencyLimit !== undefined || !!options.rateLimit;

  /** `named`: the id and index a submitter gave the run (another process may be the one running it). */
  const runTask = (args: Args, observer?: TaskRunObserver, named?: NamedRun): Promise<Result> =>
    traceTaskRun(options.name, () => runTaskInSpan(args, observer, named));
  const runTaskInSpan = async (args: Args, observer?: TaskRunObserver, named?: NamedRun): Promise<Result> => {
    const parent = currentRunContext();
    if (!parent) return fn(...args);
    installPrintCapture();
    const { engine } = parent;
    const cacheContext: TaskCacheContext = { taskKey, taskName: options.name, flowRunId: parent.flowRun?.id ?? null };
    const cacheKey = options.cacheKeyFn?.(cacheContext, args) ?? null;
    const record = createTaskRunRecord(parent, {
      taskKey,
      name: options.name,
      inputs: args,
      tags: options.tags,
      cacheKey,
      cacheExpiration: expirationMs === null ? null : new Date(Date.now() + expirationMs).toISOString(),
      id: named?.id,
      dynamicKey: named?.dynamicKey,
      recorded: named?.recorded,
    });
    observer?.(record);
    const { states, logger } = record;

    if (cacheKey && !options.refreshCache) {
      const hit = await engine.cache.get(cacheKey);
      if (hit && (hit.expiresAt === null || Date.parse(hit.expiresAt) > Date.now())) {
        states.set({ name: "Cached", message: `Cached result of task run ${hit.taskRunId}`, data: hit.result });
        logger.info(`Finished in state Cached(result from task run ${hit.taskRunId})`);
        return hit.result as Result;
      }
    }

    let slots: Lease[] = [];
    // A task without tags or limits takes no slot, whoever runs it: nothing to wait for or release.
    if (limited) {
      try {
        slots = await (named?.acquireSlots ?? acquireSlots)(engine, {
          taskKey,
          taskRunId: record.id,
          tags: options.tags ?? [],
          concurrencyLimit: options.concurrencyLimit,
          rateLimit: options.rateLimit,
          signal: parent.signal,
          onWait: () => states.set({ name: "AwaitingConcurrencySlot", message: "Waiting for a concurrency slot" }),
        });
      } catch (error) {
        // Cancelled while waiting for a slot: it never ran.
        if (parent.signal.aborted) states.set({ name: "Cancelled", message: "Cancelled before it started" });
        throw error;
      }
    }
    try {
      return await runAttempts({
        what: `Task run '${record.name}'`,
        options,
        states,
        logger,
        parentSignal: parent.signal,
        body: (signal) => {
          const context: RunContext = {
            ...parent,
            taskRun: { id: record.id, name: record.name, taskKey, runCount: states.runCount },
            logger,
            signal,
            logPrints: options.logPrints ?? parent.logPrints,
          };
          return runContextStorage.run(context, () => callBody(fn, args));
        },
        onSuccess: cacheKey
          ? async (result) => {
              const expiresAt = expirationMs === null ? null : new Date(Date.now() + expirationMs).toISOString();
              try {
                await engine.cache.set(cacheKey, { taskRunId: record.id, result: result ?? null, expiresAt });
              } catch (error) {
                // The body did its work: a cache that cannot take the result (its store restarting, say)
                // costs a later run a cache miss, not this run a failure and its body a second run.
                logger.warning(`Could not cache the result (key ${cacheKey}): ${describeError(error).message}`);
              }
            }
          : undefined,
      });
    } finally {
      if (slots.length > 0) await releaseSlots(slots);
    }
  };

  const submitRequest = (args: Args, detached: boolean): TaskRunFuture<Result> => {
    const parent = currentRunContext();
    const engine = parent?.engine ?? currentEngine();
    const future = new TaskRunFuture<Result>();
    const named: NamedRun = { id: newRunId(), dynamicKey: nextDynamicKey(parent, taskKey) };
    const request: TaskRunRequest = {
      taskRunId: named.id,
      taskName: options.name,
      definedIn,
      args,
      dynamicKey: named.dynamicKey,
      flowRun: parent?.flowRun
        ? { id: parent.flowRun.id, name: parent.flowRun.name, flowName: parent.flowRun.flowName }
        : null,
      logPrints: options.logPrints ?? parent?.logPrints ?? false,
      detached,
      limited,
    };
    // Here: inside the submitter's context, whenever the dispatcher gets to it.
    const runHere = () =>
      parent ? runContextStorage.run(parent, () => runTask(args, future.observe, named)) : runTask(args);
    future.settle(engine.dispatcher.dispatch<Result>(request, runHere));
    return future;
  };
  const submit = (...args: Args): TaskRunFuture<Result> => submitRequest(args, false);
  /** Fire and forget: resolves once the run is handed over (queued, or started here). */
  const delay = async (...args: Args): Promise<void> => {
    await submitRequest(args, true).result();
  };

  const map = (...args: MapArgs<Args>): MappedFutures<Result> => {
    const lengths = args.filter((arg) => Array.isArray(arg)).map((arg) => (arg as unknown[]).length);
    const count = lengths.length === 0 ? 0 : Math.min(...lengths);
    if (lengths.some((length) => length !== count)) {
      throw new TypeError(`${options.name}.map(): mapped arguments have different lengths (${lengths.join(", ")})`);
    }
    const futures: TaskRunFuture<Result>[] = [];
    for (let i = 0; i < count; i++) {
      const callArgs = args.map((arg) => {
        if (Array.isArray(arg)) return arg[i];
        if (arg && typeof arg === "object" && UNMAPPED in arg) return (arg as Unmapped<unknown>).value;
        return arg;
      }) as Args;
      futures.push(submit(...callArgs));
    }
    return new MappedFutures(futures);
  };

  return Object.assign((...args: Args) => runTask(args), {
    kind: "task" as const,
    taskName: options.name,
    options,
    definedIn,
    submit,
    delay,
    map,
    runRequest: (request: TaskRunRequest, queued?: QueuedRunOptions) =>
      runTask(request.args as Args, undefined, { ...queued, id: request.taskRunId, dynamicKey: request.dynamicKey }),
  });
}

/**
 * The task's function called as a promise (a synchronous throw becomes a rejection), with no
 * promise of its own around one the function returns: a run of a `.map()` pays for every promise
 * it makes, each about 1.7 µs of CPU with Node 20's AsyncLocalStorage on.
 */
function callBody<Args extends unknown[], Result>(
  fn: (...args: Args) => Promise<Result> | Result,
  args: Args,
): Promise<Result> {
  try {
    return Promise.resolve(fn(...args));
  } catch (error) {
    return Promise.reject(error);
  }
}

export function isTask(value: unknown): value is Task<unknown[], unknown> {
  return typeof value === "function" && (value as { kind?: unknown }).kind === "task";
}
