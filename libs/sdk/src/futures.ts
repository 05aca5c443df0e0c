/** Futures of submitted task runs: `.result()`, `.state()`, and `await` (they are thenables). */
import type { StateName, StateType } from "@sluice/core";
import type { TaskRunRecord } from "./task-run-record.js";

export type TaskRunObserver = (record: TaskRunRecord) => void;

/** What a future holds until the engine settles it (in the same tick as it is made): one for all of them. */
const NOT_YET_SETTLED: Promise<never> = new Promise<never>(() => {});
const ignore = () => {};

export class TaskRunFuture<T> implements PromiseLike<T> {
  private record: TaskRunRecord | null = null;
  private promise: Promise<T> = NOT_YET_SETTLED;

  /** Called by the engine once the task run exists. */
  readonly observe: TaskRunObserver = (record) => {
    this.record = record;
  };

  settle(promise: Promise<T>): void {
    this.promise = promise;
    promise.catch(ignore); // awaited by result(); an unawaited failure is recorded, not an unhandled rejection
  }

  get taskRunId(): string | null {
    return this.record?.id ?? null;
  }

  /** Waits for the task run and returns its result (throws its error). */
  result(): Promise<T> {
    return this.promise;
  }

  /** The task run's current state (Pending until it has started). */
  state(): { type: StateType; name: StateName } {
    return this.record?.states.current ?? { type: "PENDING", name: "Pending" };
  }

  // biome-ignore lint/suspicious/noThenProperty: futures are deliberately awaitable
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.promise.then(onfulfilled, onrejected);
  }
}

/** The futures of a `.map()`: awaiting it gives every result, in order. */
export class MappedFutures<T> implements PromiseLike<T[]> {
  constructor(readonly futures: TaskRunFuture<T>[]) {}

  result(): Promise<T[]> {
    return Promise.all(this.futures.map((future) => future.result()));
  }

  // biome-ignore lint/suspicious/noThenProperty: mapped futures are deliberately awaitable
  then<R1 = T[], R2 = never>(
    onfulfilled?: ((value: T[]) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.result().then(onfulfilled, onrejected);
  }
}

/** Waits until every future has finished, whether it succeeded or failed. */
export async function waitFor(futures: Iterable<TaskRunFuture<unknown>>): Promise<void> {
  await Promise.allSettled([...futures].map((future) => future.result()));
}
