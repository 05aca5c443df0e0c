/**
 * How the result of a queued task run reaches the process awaiting it: the worker that ran it
 * adds one entry to the awaiting process's own reply stream, which that process reads with a
 * blocking XREAD. Each process reads only its own replies (BullMQ's queue events would make every
 * flow process parse every event of the whole pool), and nothing is polled.
 *
 * A run the awaiting process ran itself (a worker runs the flows and the task runs of its pool,
 * and often takes the task a flow of its own submitted) is answered in the process, through
 * `LocalReplies`: no entry, no round trip, no wake-up of the blocked read. The reply still goes
 * through JSON, so the flow gets the same value whichever worker ran the task.
 */
import type { Redis } from "ioredis";

/** What a worker sends back: the task run's result, or the error it ended with. */
export type TaskRunReply =
  | { taskRunId: string; ok: true; value: unknown }
  | { taskRunId: string; ok: false; error: { name: string; message: string } };

const REPLY_FIELD = "r";
/** A reply stream outlives its reader by this much at most (a process that died leaves nothing behind). */
const REPLY_STREAM_TTL_SECONDS = 3600;

/** Replies on their way to one stream together, and whoever waits for them to be in Redis. */
interface ReplyBatch {
  replies: TaskRunReply[];
  sent: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function newBatch(): ReplyBatch {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const sent = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { replies: [], sent, resolve, reject };
}

/** A reply handed to a reader in this process: one settled promise for them all (one less per task run). */
const DELIVERED = Promise.resolve();

/** The reply readers of this process, by stream: where a sender hands a reply over directly. */
export class LocalReplies {
  private readonly readers = new Map<string, TaskRunReplyReader>();

  add(reader: TaskRunReplyReader): void {
    this.readers.set(reader.stream, reader);
  }

  remove(reader: TaskRunReplyReader): void {
    if (this.readers.get(reader.stream) === reader) this.readers.delete(reader.stream);
  }

  /** The reader of `stream` in this process, if it is here and open. */
  readerOf(stream: string): TaskRunReplyReader | undefined {
    return this.readers.get(stream);
  }
}

/**
 * Sends replies. A reply goes out at once unless one to the same stream is on its way; then it
 * waits for that one and goes with every reply that came meanwhile, in one entry. So an idle
 * worker answers a lone `.submit()` without delay (a chain of them is a flow's critical path), and
 * a busy one writes one entry per round trip and stream rather than one per run (a `.map()`).
 */
export class TaskRunReplySender {
  /** Per stream: whether an entry is being written, and the replies waiting for it. */
  private readonly streams = new Map<string, { writing: boolean; waiting: ReplyBatch | null }>();

  constructor(
    private readonly redis: Redis,
    /** Readers in this process, answered without Redis. */
    private readonly local?: LocalReplies,
  ) {}

  /** Resolves once the reply is in Redis, or handed to a reader in this process. */
  send(stream: string, reply: TaskRunReply): Promise<void> {
    const reader = this.local?.readerOf(stream);
    if (reader) {
      reader.receive(JSON.stringify(reply));
      return DELIVERED;
    }
    let state = this.streams.get(stream);
    if (!state) {
      state = { writing: false, waiting: null };
      this.streams.set(stream, state);
    }
    state.waiting ??= newBatch();
    state.waiting.replies.push(reply);
    const { sent } = state.waiting;
    if (!state.writing) this.writeWaiting(stream, state);
    return sent;
  }

  private writeWaiting(stream: string, state: { writing: boolean; waiting: ReplyBatch | null }): void {
    const batch = state.waiting;
    if (!batch) {
      this.streams.delete(stream);
      return;
    }
    state.waiting = null;
    state.writing = true;
    const payload = JSON.stringify(batch.replies.length === 1 ? batch.replies[0] : batch.replies);
    this.redis
      .xadd(stream, "*", REPLY_FIELD, payload)
      .then(() => batch.resolve(), batch.reject)
      .finally(() => {
        state.writing = false;
        this.writeWaiting(stream, state);
      });
  }
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class TaskRunReplyReader {
  private readonly waiters = new Map<string, Waiter>();
  /** The stream is this reader's alone: everything in it is for it. */
  private lastId = "0-0";
  private reading: Promise<void> | null = null;
  private closed = false;

  /** `connection`: used for blocking reads only (a connection of its own). */
  constructor(
    private readonly connection: Redis,
    readonly stream: string,
    /** Where senders in this process find this reader (until it is closed). */
    private readonly local?: LocalReplies,
  ) {
    local?.add(this);
  }

  /**
   * Resolves with the run's result (or rejects with its error) when its reply arrives. Call it
   * before the run can finish (before enqueueing it), so no reply is missed.
   */
  wait<T>(taskRunId: string): Promise<T> {
    if (this.closed) return Promise.reject(new Error("task-run reply reader is closed"));
    const reply = new Promise<T>((resolve, reject) => {
      this.waiters.set(taskRunId, { resolve: resolve as (value: unknown) => void, reject });
    });
    this.reading ??= this.readLoop().finally(() => {
      this.reading = null;
    });
    return reply;
  }

  /** Ends the wait for a run with this error (e.g. it could not be enqueued). */
  fail(taskRunId: string, error: unknown): void {
    const waiter = this.waiters.get(taskRunId);
    if (!waiter) return;
    this.waiters.delete(taskRunId);
    waiter.reject(error instanceof Error ? error : new Error(String(error)));
  }

  get waiting(): number {
    return this.waiters.size;
  }

  private async readLoop(): Promise<void> {
    while (this.waiters.size > 0 && !this.closed) {
      let entries: [string, string[]][];
      try {
        const reply = (await this.connection.xread(
          "COUNT",
          1000,
          "BLOCK",
          1000,
          "STREAMS",
          this.stream,
          this.lastId,
        )) as [string, [string, string[]][]][] | null;
        entries = reply?.[0]?.[1] ?? [];
      } catch {
        if (this.closed) return;
        // Redis unreachable: ioredis reconnects; try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      if (entries.length === 0) continue;
      for (const [, fields] of entries) this.deliver(fields);
      this.lastId = entries[entries.length - 1]?.[0] ?? this.lastId;
      // What was read is no longer needed; the stream expires if this process goes away.
      await this.connection
        .multi()
        .xtrim(this.stream, "MINID", this.lastId)
        .expire(this.stream, REPLY_STREAM_TTL_SECONDS)
        .exec()
        .catch(() => {});
    }
  }

  private deliver(fields: string[]): void {
    const index = fields.indexOf(REPLY_FIELD);
    if (index >= 0) this.receive(fields[index + 1] ?? "");
  }

  /** Settles the waits of the reply (or replies) in this JSON text; anything else is ignored. */
  receive(payload: string): void {
    let replies: TaskRunReply | TaskRunReply[];
    try {
      replies = JSON.parse(payload) as TaskRunReply | TaskRunReply[];
    } catch {
      return;
    }
    for (const reply of Array.isArray(replies) ? replies : [replies]) this.settle(reply);
  }

  private settle(reply: TaskRunReply): void {
    const waiter = this.waiters.get(reply.taskRunId);
    if (!waiter) return; // a duplicate (a redelivered run), or one nobody waits for any more
    this.waiters.delete(reply.taskRunId);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
  }

  /** Rejects every wait still pending; the owner then disconnects the connection (ending a blocked read). */
  close(): void {
    this.closed = true;
    this.local?.remove(this);
    for (const waiter of this.waiters.values()) waiter.reject(new Error("task-run reply reader closed"));
    this.waiters.clear();
  }
}
