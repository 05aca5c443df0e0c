/**
 * A queued task run's arguments (flow → worker, in the job) and result (worker → awaiting flow, in
 * the reply) travel inline when their JSON is at most `inlineLimitBytes` long (the common case,
 * which costs a bounded size count and nothing else); larger ones are put in the ResultStore and
 * a reference `{ $ref, bytes }` travels in their place (see `encodePayload` in @sluice/core).
 *
 * Clean-up: the awaiting flow deletes the stored result once it has read it, and the stored
 * arguments once the run is over; the worker deletes the stored arguments of a run nobody awaits
 * (`.delay()`), and does not store such a run's large result at all. Whatever is left behind (a
 * flow process that died) expires in the store.
 */
import {
  ConfigurationError,
  DEFAULT_INLINE_PAYLOAD_BYTES,
  type EncodedPayload,
  encodePayload,
  inlinePayload,
  isPayloadRef,
  NotFoundError,
  type PayloadRef,
  type ResultStore,
  type TaskRunRequest,
} from "@sluice/core";
import type { TaskRunJob } from "./task-run-queue.js";

const NOTHING: EncodedPayload = { value: null, stored: null };

/** The store key of a task run's arguments or result. */
export function taskRunPayloadKey(taskRunId: string, part: "args" | "result"): string {
  return `task-run/${taskRunId}/${part}`;
}

export interface TaskRunPayloadsOptions {
  /** Where large payloads go; without one, everything travels inline. */
  store?: ResultStore;
  /** Largest JSON that travels inline (default 64 KiB, SLUICE_INLINE_PAYLOAD_BYTES). */
  inlineLimitBytes?: number;
  /** Told when deleting payloads failed (they expire anyway). */
  onError?: (error: unknown) => void;
}

export class TaskRunPayloads {
  private readonly inlineLimit: number;
  private readonly deleting = new Set<Promise<void>>();

  constructor(private readonly options: TaskRunPayloadsOptions = {}) {
    this.inlineLimit = options.store
      ? (options.inlineLimitBytes ?? DEFAULT_INLINE_PAYLOAD_BYTES)
      : Number.POSITIVE_INFINITY;
  }

  /** Flow side: the arguments as the job carries them; when `stored`, `save()` them before enqueueing. */
  encodeArgs(request: TaskRunRequest): EncodedPayload & { value: TaskRunJob["args"] } {
    // The arguments are an array: inline, they are never wrapped (only objects are).
    const encoded = encodePayload(request.args, taskRunPayloadKey(request.taskRunId, "args"), this.inlineLimit);
    return encoded as EncodedPayload & { value: TaskRunJob["args"] };
  }

  async save(stored: { key: string; json: string }): Promise<void> {
    await this.storeOrThrow().put(stored.key, stored.json);
  }

  /**
   * Flow side: the result, from the value the worker sent back (read from the store and deleted
   * there when it is a reference). Stored arguments are deleted once the run is over.
   */
  receive<T>(reply: Promise<unknown>, args: EncodedPayload): Promise<T> {
    const result = reply.then(this.resultOf);
    if (args.stored === null) return result as Promise<T>;
    const argsKey = args.stored.key;
    return result.finally(() => this.discard([argsKey])) as Promise<T>;
  }

  /** A reply's value as the submitter gets it (one function for every reply of a `.map()`). */
  private readonly resultOf = (value: unknown): unknown =>
    isPayloadRef(value) ? this.take(value) : inlinePayload(value);

  /** Worker side: the request a job stands for, its arguments read from the store when the job carries a reference. */
  async requestOf(job: TaskRunJob): Promise<TaskRunRequest> {
    if (Array.isArray(job.args)) return job as TaskRunRequest;
    return { ...job, args: (await this.read(job.args)) as unknown[] };
  }

  /** The request at once when its arguments came inline (most do); null when they are stored. */
  inlineRequestOf(job: TaskRunJob): TaskRunRequest | null {
    return Array.isArray(job.args) ? (job as TaskRunRequest) : null;
  }

  /**
   * Worker side: the result as the reply carries it; when `stored`, `save()` it before replying.
   * A run nobody awaits (`.delay()`, no reply) keeps nothing.
   */
  encodeResult(job: TaskRunJob, result: unknown): EncodedPayload {
    if (job.replyTo === null) return NOTHING;
    return encodePayload(
      result === undefined ? null : result,
      taskRunPayloadKey(job.taskRunId, "result"),
      this.inlineLimit,
    );
  }

  /** Worker side, once a job has run, whatever the outcome: the stored arguments of a run nobody awaits go. */
  finished(job: TaskRunJob): void {
    if (job.replyTo === null && isPayloadRef(job.args)) this.discard([job.args.$ref]);
  }

  /** Deletes stored payloads in the background (tracked: `settle()` waits for them). */
  discard(keys: readonly string[]): void {
    const store = this.options.store;
    if (!store || keys.length === 0) return;
    const deleting: Promise<void> = store
      .delete(keys)
      .catch((error: unknown) => this.options.onError?.(error))
      .finally(() => this.deleting.delete(deleting));
    this.deleting.add(deleting);
  }

  /** Resolves once the background deletes have finished (before closing the store's connections). */
  async settle(): Promise<void> {
    while (this.deleting.size > 0) await Promise.all([...this.deleting]);
  }

  private async take(ref: PayloadRef): Promise<unknown> {
    try {
      return await this.read(ref);
    } finally {
      this.discard([ref.$ref]);
    }
  }

  private async read(ref: PayloadRef): Promise<unknown> {
    const json = await this.storeOrThrow().get(ref.$ref);
    if (json === null) throw new NotFoundError(`Task run payload '${ref.$ref}' is gone (expired or deleted)`);
    return JSON.parse(json) as unknown;
  }

  private storeOrThrow(): ResultStore {
    const store = this.options.store;
    if (!store) throw new ConfigurationError("A task run payload is in the result store, but no result store is set");
    return store;
  }
}
