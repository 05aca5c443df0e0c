/**
 * Drains the run-event stream into Postgres: reads with a consumer group, records each batch in one
 * transaction (`recordEvents`), and acknowledges the entries only after the commit. Nothing is lost
 * when the database is down (the batch is retried with backoff, never dropped) or when a recorder
 * dies mid-batch (its pending entries are reclaimed by a live one after `claimMinIdleMs`); since
 * recording is idempotent, an entry recorded twice is harmless.
 */
import type { RunEvent } from "@sluice/core";
import {
  type DbHandle,
  isDataError,
  type PreparedEvents,
  type PrepareOptions,
  prepareEvents,
  recordEvents,
  takesCopy,
} from "@sluice/db";
import { compareStreamIds, decodeEvents, EVENT_FIELD, ensureEventStreamGroup, type RedisKeys } from "@sluice/queue";
import type { Redis } from "ioredis";
import { parseStreamEntries, parseXinfo, type StreamEntry, successorId } from "./stream-replies.js";

/** The part of a pino logger the recorder uses (a pino Logger fits). */
export interface RecorderLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RecorderOptions {
  /** Redis client; the recorder runs its stream commands on a connection of its own (`redis.duplicate()`). */
  redis: Redis;
  /** Opens that connection instead of `redis.duplicate()`; the recorder closes it on stop. */
  createConnection?: () => Redis;
  /** A Database from createDatabase(), a pg pool or a drizzle handle. */
  db: DbHandle;
  keys: RedisKeys;
  /** This recorder's name in the consumer group; unique per live recorder. */
  consumerName: string;
  logger?: RecorderLogger;
  /** Most entries read at once, recorded in one transaction unless they are big. Default 1000. */
  batchSize?: number;
  /**
   * About how many events one read takes (fewer entries are read when they hold many events each,
   * as a `.map()`'s do), so that a backlog is recorded in transactions of this size one after the
   * other, each worked out while Postgres writes the one before, rather than in one ever larger
   * transaction that alternates with its own preparation. Default 5000 (about 1000 task runs).
   */
  eventsPerRead?: number;
  /**
   * Entries read together are split over several transactions when their event text adds up to
   * more than this many characters (big cache entries, parameters), so a statement never nears
   * Postgres's limits (a jsonb value of 256 MB at most). Default 32 MiB.
   */
  maxTransactionChars?: number;
  /** How long one read waits for new entries. Default 1000 ms; stop() may wait this long. */
  blockMs?: number;
  /** Entries pending this long on some consumer are taken over (it is presumed dead). Default 30 s. */
  claimMinIdleMs?: number;
  /** How often to look for such entries. Default 10 s. */
  claimIntervalMs?: number;
  /** How often to trim entries every consumer group has acknowledged. Default 5 s. */
  trimIntervalMs?: number;
  /** Consumers idle this long with nothing pending are removed from the group. Default 1 h. */
  deadConsumerIdleMs?: number;
  /** First retry delay after a failure; doubles up to `maxRetryDelayMs`. Defaults 100 ms and 5 s. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

export interface RecorderStats {
  /** Events written to Postgres (counting replays of already recorded ones). */
  eventsRecorded: number;
  /** Transactions committed. */
  batchesRecorded: number;
  /** Stream entries acknowledged. */
  entriesAcked: number;
  /** Entries taken over from consumers presumed dead. */
  entriesReclaimed: number;
  /** Entries that can never be recorded (not an event, or data Postgres rejects), moved to the dead-letter stream. */
  entriesDeadLettered: number;
  /** Failed attempts to write a batch (each is retried). */
  recordFailures: number;
  /** Entries removed from the stream by trimming. */
  entriesTrimmed: number;
}

interface DeadLetter {
  id: string;
  payload: string;
  reason: string;
}

/** Entries read together, decoded and worked out for their transactions (see `prepare`). */
interface PreparedEntries {
  entries: StreamEntry[];
  /** The read took as many entries as it asked for: more are likely waiting. */
  full: boolean;
  /** One transaction each; `ids` names the entry of each event (for dead letters). */
  parts: { events: RunEvent[]; ids: string[]; prepared: PreparedEvents }[];
  undecodable: DeadLetter[];
}

const noopLogger: RecorderLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class Recorder {
  private readonly db: DbHandle;
  /** How its batches are worked out for `db` (see PrepareOptions). */
  private readonly prepareOptions: PrepareOptions;
  private readonly redis: Redis;
  private readonly createConnection: () => Redis;
  private readonly stream: string;
  private readonly group: string;
  private readonly consumer: string;
  private readonly deadLetterStream: string;
  private readonly logger: RecorderLogger;
  private readonly batchSize: number;
  private readonly eventsPerRead: number;
  /**
   * Entries the next read (or reclaim) takes: `eventsPerRead` at the events per entry of the last
   * read, at most `batchSize`.
   */
  private readCount: number;
  private readonly maxTransactionChars: number;
  private readonly blockMs: number;
  private readonly claimMinIdleMs: number;
  private readonly claimIntervalMs: number;
  private readonly trimIntervalMs: number;
  private readonly deadConsumerIdleMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;

  private connection: Redis | undefined;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private running = false;
  /** What the loop is doing, so stop() knows whether it may cut the Redis connection. */
  private phase: "idle" | "redis" | "record" = "idle";
  private wakeSleeper: (() => void) | undefined;
  /** The next entries, read and worked out while Postgres writes the ones before (see `readAhead`). */
  private readingAhead: Promise<PreparedEntries | "reread"> | null = null;
  private nextClaimAt = 0;
  private nextTrimAt = 0;
  private readonly counters: RecorderStats = {
    eventsRecorded: 0,
    batchesRecorded: 0,
    entriesAcked: 0,
    entriesReclaimed: 0,
    entriesDeadLettered: 0,
    recordFailures: 0,
    entriesTrimmed: 0,
  };

  constructor(options: RecorderOptions) {
    this.db = options.db;
    this.prepareOptions = { copy: takesCopy(options.db) };
    this.redis = options.redis;
    this.createConnection = options.createConnection ?? (() => this.redis.duplicate());
    this.stream = options.keys.eventStream;
    this.group = options.keys.recorderGroup;
    this.consumer = options.consumerName;
    this.deadLetterStream = `${options.keys.eventStream}:dead`;
    this.logger = options.logger ?? noopLogger;
    this.batchSize = options.batchSize ?? 1000;
    this.eventsPerRead = options.eventsPerRead ?? 5000;
    // One entry first (after a restart into a backlog, its entries' size is unknown): the reads
    // after it take what the first one learned.
    this.readCount = 1;
    this.maxTransactionChars = options.maxTransactionChars ?? 32 * 1024 * 1024;
    this.blockMs = options.blockMs ?? 1000;
    this.claimMinIdleMs = options.claimMinIdleMs ?? 30_000;
    this.claimIntervalMs = options.claimIntervalMs ?? 10_000;
    this.trimIntervalMs = options.trimIntervalMs ?? 5_000;
    this.deadConsumerIdleMs = options.deadConsumerIdleMs ?? 3_600_000;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
  }

  /** A copy of the counters. */
  get stats(): RecorderStats {
    return { ...this.counters };
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Creates the consumer group if needed and starts draining in the background. */
  start(): Promise<void> {
    this.starting ??= this.open().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    if (this.loop) return;
    const connection = this.createConnection();
    connection.on("error", (error: Error) => this.logger.debug({ err: error }, "recorder redis connection error"));
    try {
      await ensureEventStreamGroup(connection, this.stream, this.group);
    } catch (error) {
      connection.disconnect();
      throw error;
    }
    this.connection = connection;
    this.running = true;
    const now = Date.now();
    this.nextClaimAt = now; // reclaim what dead recorders left behind right away
    this.nextTrimAt = now + this.trimIntervalMs;
    this.logger.info(
      { stream: this.stream, group: this.group, consumer: this.consumer, batchSize: this.batchSize },
      "recorder started",
    );
    this.loop = this.run(connection);
  }

  /**
   * Finishes the batch in hand (recorded and acknowledged) and stops. A batch that cannot be
   * written because the database is down is left pending, for this or another recorder to take.
   */
  async stop(): Promise<void> {
    await this.starting?.catch(() => {});
    const loop = this.loop;
    if (!loop) return;
    this.running = false;
    this.wakeSleeper?.();
    // A read returns within blockMs; a command stuck on an unreachable Redis does not, so after
    // that the connection is cut (what it had read stays pending and is reclaimed later).
    for (;;) {
      const finished = await Promise.race([loop.then(() => true), sleep(this.blockMs + 1000).then(() => false)]);
      if (finished) break;
      if (this.phase === "redis") this.connection?.disconnect();
    }
    this.connection?.disconnect();
    this.connection = undefined;
    this.loop = undefined;
    this.logger.info({ consumer: this.consumer, ...this.counters }, "recorder stopped");
  }

  private async run(connection: Redis): Promise<void> {
    let delay = this.retryDelayMs;
    // First what this consumer name left pending in a previous life (same name after a restart).
    let ownPendingFrom: string | null = "0";
    while (this.running) {
      try {
        const now = Date.now();
        if (now >= this.nextClaimAt) {
          this.nextClaimAt = now + this.claimIntervalMs;
          await this.reclaim(connection);
        }
        if (now >= this.nextTrimAt) {
          this.nextTrimAt = now + this.trimIntervalMs;
          await this.trim(connection);
        }
        if (ownPendingFrom !== null) {
          const [entries] = await this.read(connection, ownPendingFrom);
          ownPendingFrom = entries.at(-1)?.id ?? null;
          await this.process(connection, this.prepare(entries));
        } else {
          const ahead = await this.awaitReadAhead();
          if (ahead === "reread") {
            ownPendingFrom = "0";
            continue;
          }
          const batch = ahead ?? this.prepare(...(await this.read(connection, ">")));
          if (batch.entries.length === 0) continue;
          // Behind (a full read: more is waiting), the next batch is read ahead. Keeping up, it is
          // read after the commit and holds everything that came during the transaction: read
          // ahead, it would hold only what came before the first write, and the recorder would
          // write more, smaller transactions, each paying the lock, the tombstone check and the
          // acknowledgement, for no gain, as nothing waits.
          await this.process(
            connection,
            batch,
            batch.full
              ? () => {
                  // Stopping: nothing more is taken from the stream.
                  if (this.running) this.readingAhead ??= this.readAhead(connection);
                }
              : undefined,
          );
        }
        delay = this.retryDelayMs;
      } catch (error) {
        if (!this.running) break;
        if (error instanceof Error && error.message.includes("NOGROUP")) {
          // The stream was deleted (and the group with it): start over on a new one.
          this.logger.warn({ stream: this.stream }, "event stream or consumer group missing; recreating it");
          await ensureEventStreamGroup(connection, this.stream, this.group).catch(() => {});
          continue;
        }
        this.logger.error({ err: error, retryInMs: delay }, "recorder loop failed; retrying");
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
    // Entries read ahead are in hand too: recorded and acknowledged before stopping (or left
    // pending for later if the database is down).
    const ahead = await this.awaitReadAhead();
    if (ahead && ahead !== "reread" && ahead.entries.length > 0) {
      await this.process(connection, ahead).catch((error: unknown) => {
        this.logger.warn({ err: error }, "could not record the entries read ahead; left pending");
      });
    }
    this.phase = "idle";
  }

  /**
   * The entries read ahead, if any. Waiting for them is waiting on Redis: stop() may cut the
   * connection then, if Redis does not answer (the read fails, and its entries are read again
   * from this consumer's pending ones).
   */
  private async awaitReadAhead(): Promise<PreparedEntries | "reread" | null> {
    if (!this.readingAhead) return null;
    this.phase = "redis";
    try {
      return await this.readingAhead;
    } finally {
      this.phase = "idle";
      this.readingAhead = null;
    }
  }

  /**
   * Reads the next entries, without waiting for more, and works them out, while Postgres writes
   * the batch in hand (called once its transaction sent its first write), when the recorder is
   * behind: the recorder's own work (parsing, building the statements' JSON, a third of its time)
   * overlaps Postgres's instead of alternating with it, and a backlog (after an outage, a burst)
   * drains faster. "reread" when the read failed: what it delivered is pending on this consumer,
   * read again from there.
   */
  private async readAhead(connection: Redis): Promise<PreparedEntries | "reread"> {
    try {
      return this.prepare(...(await this.readGroup(connection, ">", false)));
    } catch (error) {
      this.logger.debug({ err: error }, "could not read ahead; reading this consumer's pending entries again");
      return "reread";
    }
  }

  /**
   * Reads in the loop's Redis phase (see stop()): new entries (">"), waiting up to blockMs, or
   * this consumer's pending ones after an id.
   */
  private async read(connection: Redis, from: string): Promise<[entries: StreamEntry[], full: boolean]> {
    this.phase = "redis";
    try {
      return await this.readGroup(connection, from, from === ">");
    } finally {
      this.phase = "idle";
    }
  }

  /**
   * XREADGROUP: entries after `from` (">": new ones), waiting up to blockMs for them when `wait`;
   * and whether it took as many as it asked for.
   */
  private async readGroup(
    connection: Redis,
    from: string,
    wait: boolean,
  ): Promise<[entries: StreamEntry[], full: boolean]> {
    const count = this.readCount;
    const block = wait ? ["BLOCK", this.blockMs] : [];
    const args = ["GROUP", this.group, this.consumer, "COUNT", count, ...block, "STREAMS", this.stream, from];
    const reply = await connection.call("XREADGROUP", args);
    const entries = parseStreamEntries((reply as [string, unknown][] | null)?.[0]?.[1]);
    return [entries, entries.length >= count];
  }

  /** Decodes the entries and works out their transactions (no I/O); learns their size for the next read. */
  private prepare(entries: StreamEntry[], full = false): PreparedEntries {
    const undecodable: DeadLetter[] = [];
    const parts: PreparedEntries["parts"] = [];
    let part = { events: [] as RunEvent[], ids: [] as string[] };
    let partChars = 0;
    let events = 0;
    let decodedEntries = 0;
    const endPart = () => parts.push(...this.preparePart(part.events, part.ids, undecodable));
    for (const { id, fields } of entries) {
      // null: the entry was trimmed away while pending; there is nothing to record, only to ack.
      if (fields === null) continue;
      const payload = fields[EVENT_FIELD] ?? "";
      let decoded: RunEvent[];
      try {
        decoded = decodeEvents(payload);
      } catch (error) {
        undecodable.push({ id, payload, reason: `undecodable: ${errorMessage(error)}` });
        continue;
      }
      if (partChars > 0 && partChars + payload.length > this.maxTransactionChars) {
        endPart();
        part = { events: [], ids: [] };
        partChars = 0;
      }
      partChars += payload.length;
      events += decoded.length;
      decodedEntries++;
      for (const event of decoded) {
        part.events.push(event);
        part.ids.push(id);
      }
    }
    endPart();
    if (events > 0) {
      const eventsPerEntry = events / decodedEntries;
      this.readCount = Math.max(1, Math.min(this.batchSize, Math.round(this.eventsPerRead / eventsPerEntry)));
    }
    return { entries, full, parts, undecodable };
  }

  /**
   * Works the part out; when one of its events is malformed (decodable JSON, but not the event it
   * says it is), each entry is worked out on its own and the entries that cannot be are
   * dead-lettered, as undecodable ones are, so the others are still recorded.
   */
  private preparePart(events: RunEvent[], ids: string[], deadLetters: DeadLetter[]): PreparedEntries["parts"] {
    try {
      return [{ events, ids, prepared: prepareEvents(events, this.prepareOptions) }];
    } catch {
      const kept = { events: [] as RunEvent[], ids: [] as string[] };
      for (let start = 0; start < events.length; ) {
        const id = ids[start] ?? "";
        let end = start;
        while (end < events.length && ids[end] === id) end++;
        const entryEvents = events.slice(start, end);
        try {
          prepareEvents(entryEvents, this.prepareOptions);
          kept.events.push(...entryEvents);
          kept.ids.push(...ids.slice(start, end));
        } catch (error) {
          deadLetters.push({ id, payload: JSON.stringify(entryEvents), reason: `malformed: ${errorMessage(error)}` });
        }
        start = end;
      }
      return [{ ...kept, prepared: prepareEvents(kept.events, this.prepareOptions) }];
    }
  }

  /** Records the entries' events, then acknowledges them (only after the commit). */
  private async process(
    connection: Redis,
    { entries, parts, undecodable }: PreparedEntries,
    whileWriting?: () => void,
  ): Promise<void> {
    if (entries.length === 0) return;
    const deadLetters = [...undecodable];
    for (const part of parts) {
      const rejected = await this.recordUntilDone(part, whileWriting);
      // Stopped while the database was unavailable: leave the batch pending for later (the parts
      // already written are written again then, which changes nothing).
      if (rejected === null) return;
      deadLetters.push(...rejected);
    }
    // Acknowledge only once the dead letters are kept too (or they would be lost).
    if (deadLetters.length > 0 && !(await this.deadLetter(connection, deadLetters))) return;
    await this.ack(
      connection,
      entries.map((entry) => entry.id),
    );
  }

  /**
   * Writes the events, retrying with backoff until it works, or returns null if the recorder
   * stops first. Events Postgres rejects as invalid data are isolated by splitting the batch and
   * returned (to be dead-lettered); all the others are written.
   */
  private async recordUntilDone(
    part: PreparedEntries["parts"][number],
    whileWriting?: () => void,
  ): Promise<DeadLetter[] | null> {
    const { events, ids, prepared } = part;
    let delay = this.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      this.phase = "record";
      try {
        const rejected: DeadLetter[] = [];
        await this.recordSplittingBadData(events, ids, rejected, prepared, whileWriting);
        return rejected;
      } catch (error) {
        this.counters.recordFailures++;
        this.logger.error(
          { err: error, attempt, events: events.length, retryInMs: delay },
          "could not record events; retrying the batch",
        );
      } finally {
        this.phase = "idle";
      }
      if (!this.running) return null;
      await this.sleep(delay);
      if (!this.running) return null;
      delay = Math.min(delay * 2, this.maxRetryDelayMs);
    }
  }

  /** `prepared`: the events worked out already (the halves of a split batch are worked out again). */
  private async recordSplittingBadData(
    events: RunEvent[],
    ids: string[],
    deadLetters: DeadLetter[],
    prepared?: PreparedEvents,
    whileWriting?: () => void,
  ): Promise<void> {
    if (events.length === 0) return;
    try {
      await recordEvents(this.db, prepared ?? events, { whileWriting });
      this.counters.eventsRecorded += events.length;
      this.counters.batchesRecorded++;
    } catch (error) {
      if (!isDataError(error)) throw error;
      const [event] = events;
      if (events.length === 1 && event) {
        deadLetters.push({ id: ids[0] ?? "", payload: JSON.stringify(event), reason: errorMessage(error) });
        return;
      }
      const half = Math.ceil(events.length / 2);
      await this.recordSplittingBadData(events.slice(0, half), ids.slice(0, half), deadLetters);
      await this.recordSplittingBadData(events.slice(half), ids.slice(half), deadLetters);
    }
  }

  /** Keeps entries that can never be recorded, with the reason, in `${stream}:dead` (capped). */
  private async deadLetter(connection: Redis, letters: DeadLetter[]): Promise<boolean> {
    for (const letter of letters) {
      this.logger.error(
        { entryId: letter.id, reason: letter.reason, deadLetterStream: this.deadLetterStream },
        "run event cannot be recorded; moved to the dead-letter stream",
      );
    }
    const written = await this.withRedisRetry(async () => {
      const pipeline = connection.pipeline();
      for (const letter of letters) {
        pipeline.xadd(
          this.deadLetterStream,
          "MAXLEN",
          "~",
          10_000,
          "*",
          EVENT_FIELD,
          letter.payload,
          "entry",
          letter.id,
          "reason",
          letter.reason,
        );
      }
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
      return true;
    });
    if (!written) return false;
    this.counters.entriesDeadLettered += letters.length;
    return true;
  }

  private async ack(connection: Redis, ids: string[]): Promise<void> {
    const acked = await this.withRedisRetry(() => connection.xack(this.stream, this.group, ...ids));
    if (acked !== undefined) this.counters.entriesAcked += ids.length;
  }

  /**
   * Takes over entries pending longer than claimMinIdleMs on any consumer (a recorder that died
   * mid-batch) and records them; removes long-idle consumers that hold nothing.
   */
  private async reclaim(connection: Redis): Promise<void> {
    let cursor = "0-0";
    do {
      this.phase = "redis";
      const reply = (await connection.xautoclaim(
        this.stream,
        this.group,
        this.consumer,
        this.claimMinIdleMs,
        cursor,
        "COUNT",
        this.readCount,
      )) as [string, unknown];
      this.phase = "idle";
      cursor = reply[0];
      const entries = parseStreamEntries(reply[1]);
      if (entries.length > 0) {
        this.counters.entriesReclaimed += entries.length;
        this.logger.warn({ entries: entries.length }, "reclaimed stream entries left pending by another recorder");
        await this.process(connection, this.prepare(entries));
      }
    } while (cursor !== "0-0" && this.running);

    this.phase = "redis";
    try {
      const consumers = parseXinfo(await connection.xinfo("CONSUMERS", this.stream, this.group));
      for (const consumer of consumers) {
        const name = String(consumer.name);
        if (name === this.consumer || Number(consumer.pending) > 0) continue;
        if (Number(consumer.idle) < this.deadConsumerIdleMs) continue;
        await connection.xgroup("DELCONSUMER", this.stream, this.group, name);
        this.logger.info({ consumer: name }, "removed idle consumer from the recorder group");
      }
    } finally {
      this.phase = "idle";
    }
  }

  /**
   * Drops the entries every consumer group of the stream has read and acknowledged: those older
   * than each group's oldest pending entry and than its first undelivered one.
   */
  private async trim(connection: Redis): Promise<void> {
    this.phase = "redis";
    try {
      const groups = parseXinfo(await connection.xinfo("GROUPS", this.stream));
      if (groups.length === 0) return;
      let minId: string | null = null;
      for (const group of groups) {
        let keepFrom = successorId(String(group["last-delivered-id"]));
        if (Number(group.pending) > 0) {
          const summary = (await connection.xpending(this.stream, String(group.name))) as [number, string | null];
          if (summary[1] && compareStreamIds(summary[1], keepFrom) < 0) keepFrom = summary[1];
        }
        if (minId === null || compareStreamIds(keepFrom, minId) < 0) minId = keepFrom;
      }
      if (minId === null) return;
      const trimmed = await connection.xtrim(this.stream, "MINID", minId);
      if (trimmed > 0) {
        this.counters.entriesTrimmed += trimmed;
        this.logger.debug({ trimmed, minId }, "trimmed acknowledged entries from the event stream");
      }
    } finally {
      this.phase = "idle";
    }
  }

  /** Runs a Redis command, retrying with backoff while running; undefined when stopped first. */
  private async withRedisRetry<T>(command: () => Promise<T>): Promise<T | undefined> {
    let delay = this.retryDelayMs;
    for (;;) {
      this.phase = "redis";
      try {
        return await command();
      } catch (error) {
        if (!this.running) return undefined;
        this.logger.error({ err: error, retryInMs: delay }, "redis command failed; retrying");
      } finally {
        this.phase = "idle";
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.maxRetryDelayMs);
    }
  }

  /** Waits `ms`, or less if stop() is called meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeSleeper = done;
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
