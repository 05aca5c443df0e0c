/**
 * The attempt loop shared by flow runs and task runs: Running → (AwaitingRetry → Retrying)* →
 * Completed | Failed | TimedOut | Cancelled, with retry delays, jitter, retry conditions and timeouts.
 */
import { setMaxListeners } from "node:events";
import {
  CancelledError,
  describeError,
  type RetryDelay,
  retryDelayMs,
  type StateName,
  sleep,
  TaskTimeoutError,
} from "@sluice/core";
import { withAttemptSpan } from "@sluice/telemetry";
import type { RunLogger } from "./run-logger.js";
import { type RunStates, resultStateData } from "./run-states.js";

export interface RetryOptions {
  /** How many times to retry after the first failure (default 0). */
  retries?: number;
  /** Seconds before each retry: a number, a list (one per retry, the last repeats), or `exponentialBackoff(...)`. */
  retryDelaySeconds?: RetryDelay;
  /** Adds up to this fraction of the delay at random, so runs failing together do not retry together. */
  retryJitterFactor?: number;
  /** Return false to stop retrying for this error. */
  retryCondition?: (error: unknown, attempt: { runCount: number }) => boolean | Promise<boolean>;
  /** The run's signal is aborted and the run ends TimedOut after this many seconds. */
  timeoutSeconds?: number;
}

export interface AttemptLoop<T> {
  what: string;
  options: RetryOptions;
  states: RunStates;
  logger: RunLogger;
  /** Aborted when the parent run is cancelled or times out. */
  parentSignal?: AbortSignal;
  body: (signal: AbortSignal) => Promise<T>;
  /** Retries already spent before this loop (e.g. by attempts that crashed): the first attempt is a retry. */
  firstRetryNumber?: number;
  /**
   * When the parent signal aborts, how long the body may take to stop (the signal is aborted at
   * once) before it is abandoned and the run ends Cancelled anyway. Default 0: abandoned at once.
   */
  cancelGraceMs?: number;
  /** Called with the result before the run is marked Completed (e.g. to store it in the cache). */
  onSuccess?: (result: T) => Promise<void> | void;
}

export async function runAttempts<T>(loop: AttemptLoop<T>): Promise<T> {
  const { options, states, logger } = loop;
  const retries = options.retries ?? 0;
  // A span per attempt only where there can be several: a run without retries is one attempt, and
  // its run span says all an attempt span would (a quarter of the spans of a queued task run).
  const oneAttempt = retries === 0 && (loop.firstRetryNumber ?? 0) === 0;
  for (let retryNumber = loop.firstRetryNumber ?? 0; ; retryNumber++) {
    if (loop.parentSignal?.aborted) {
      // Cancelled before this attempt began: it never runs.
      const reason = loop.parentSignal.reason ?? new CancelledError();
      states.set({ name: "Cancelled", message: `Cancelled before it started: ${describeError(reason).message}` });
      throw reason;
    }
    states.set({ name: retryNumber === 0 ? "Running" : "Retrying" });
    const started = performance.now();
    try {
      const result = oneAttempt ? await runOnce(loop) : await withAttemptSpan(states.runCount, () => runOnce(loop));
      if (loop.onSuccess) await loop.onSuccess(result);
      states.set({ name: "Completed", data: resultStateData(result) });
      logger.info(`Finished in state Completed() after ${formatSeconds(started)}`);
      return result;
    } catch (error) {
      if (loop.parentSignal?.aborted && !(error instanceof TaskTimeoutError)) {
        states.set({ name: "Cancelled", message: describeError(error).message });
        logger.warning(`Finished in state Cancelled(): ${describeError(error).message}`);
        throw error;
      }
      const failedName: StateName = error instanceof TaskTimeoutError ? "TimedOut" : "Failed";
      const described = describeError(error);
      logger.error(`Encountered exception during execution: ${described.stack ?? described.message}`);
      const canRetry =
        retryNumber < retries && (await (options.retryCondition?.(error, { runCount: states.runCount }) ?? true));
      if (!canRetry) {
        states.set({ name: failedName, message: `${loop.what} failed: ${described.message}`, data: described });
        logger.error(`Finished in state ${failedName}('${described.message}')`);
        throw error;
      }
      const delay = retryDelayMs(options.retryDelaySeconds, retryNumber + 1, options.retryJitterFactor ?? 0);
      const scheduledTime = new Date(Date.now() + delay).toISOString();
      states.set({ name: "AwaitingRetry", message: described.message, scheduledTime });
      logger.info(`Retry ${retryNumber + 1}/${retries} in ${delay / 1000}s (${failedName}: ${described.message})`);
      try {
        await sleep(delay, loop.parentSignal);
      } catch (cancelled) {
        states.set({ name: "Cancelled", message: describeError(cancelled).message });
        throw cancelled;
      }
    }
  }
}

/**
 * One attempt, racing the body against its timeout and the parent's cancellation. A timeout
 * abandons the body at once; a cancellation gives it `cancelGraceMs` to stop by itself first.
 */
function runOnce<T>(loop: AttemptLoop<T>): Promise<T> {
  const parent = loop.parentSignal;
  if (loop.options.timeoutSeconds === undefined && parent && (loop.cancelGraceMs ?? 0) <= 0) {
    // Only the parent can stop this attempt, at once: its signal serves as the attempt's (no
    // controller and listener per task run, which a large `.map()` would pay thousands of times).
    if (parent.aborted) return Promise.reject(parent.reason ?? new CancelledError());
    return raceAbort(loop.body(parent), parent);
  }
  return runOnceWithTimers(loop);
}

/** An attempt with a timeout, or a grace period after the parent's cancellation. */
async function runOnceWithTimers<T>(loop: AttemptLoop<T>): Promise<T> {
  const { timeoutSeconds } = loop.options;
  const parent = loop.parentSignal;
  const controller = new AbortController();
  // The runs inside this one (a flow's task runs) each listen to it: many listeners are expected.
  setMaxListeners(0, controller.signal);
  const graceMs = loop.cancelGraceMs ?? 0;
  const cleanups: (() => void)[] = [];
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener(
      "abort",
      () => {
        const reason: unknown = controller.signal.reason;
        if (graceMs <= 0 || reason instanceof TaskTimeoutError) {
          reject(reason);
          return;
        }
        const timer = setTimeout(
          () =>
            reject(
              new CancelledError(`${loop.what} was cancelled and did not stop within ${graceMs / 1000}s: abandoned`),
            ),
          graceMs,
        );
        cleanups.push(() => clearTimeout(timer));
      },
      { once: true },
    );
  });
  aborted.catch(() => {});
  if (timeoutSeconds !== undefined) {
    const timer = setTimeout(
      () => controller.abort(new TaskTimeoutError(loop.what, timeoutSeconds)),
      timeoutSeconds * 1000,
    );
    cleanups.push(() => clearTimeout(timer));
  }
  if (parent) {
    if (parent.aborted) throw parent.reason ?? new CancelledError();
    const onAbort = () => controller.abort(parent.reason ?? new CancelledError());
    parent.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => parent.removeEventListener("abort", onAbort));
  }
  try {
    return await Promise.race([loop.body(controller.signal), aborted]);
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}

/**
 * The body's outcome, or the signal's reason as soon as it aborts (the body is abandoned). The
 * runs racing one signal (a flow run's task runs on a worker share it) wait in one set behind a
 * single listener: an EventTarget listener added and removed per run cost more than the run's
 * own bookkeeping.
 */
function raceAbort<T>(body: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason ?? new CancelledError());
      return;
    }
    const racing = racersOf(signal);
    const onAbort = () => reject(signal.reason ?? new CancelledError());
    racing.add(onAbort);
    body.then(
      (value) => {
        racing.delete(onAbort);
        resolve(value);
      },
      (error: unknown) => {
        racing.delete(onAbort);
        reject(error);
      },
    );
  });
}

/** The abort callbacks of the bodies racing each signal (see raceAbort). */
const racers = new WeakMap<AbortSignal, Set<() => void>>();

function racersOf(signal: AbortSignal): Set<() => void> {
  let racing = racers.get(signal);
  if (!racing) {
    const set = new Set<() => void>();
    racing = set;
    racers.set(signal, set);
    signal.addEventListener(
      "abort",
      () => {
        for (const onAbort of set) onAbort();
        set.clear();
      },
      { once: true },
    );
  }
  return racing;
}

function formatSeconds(startedMs: number): string {
  return `${((performance.now() - startedMs) / 1000).toFixed(3)}s`;
}
