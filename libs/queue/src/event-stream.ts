/**
 * The run-event stream on Redis: producers XADD entries whose field `e` is the JSON of an array
 * of events (a producer batches what it emits in one tick: one entry, one round trip, one ack,
 * however many task runs changed state); the recorder reads it with a consumer group and
 * acknowledges after the Postgres commit.
 *
 * The events every task run makes (its creation, its states, its log lines) travel as arrays of
 * their fields in a fixed order rather than as objects: a third fewer bytes to write, keep in
 * Redis and parse (a 20,000-run `.map()` makes 100,000 of them). Other events travel as objects,
 * and entries holding objects (a single one, or an array) still decode.
 */
import type { LogEvent, RunEvent, StateEvent, TaskRunCreatedEvent } from "@sluice/core";
import type { Redis } from "ioredis";

export const EVENT_FIELD = "e";

/** An event as it travels: the frequent kinds as field arrays (see `toTuple`), the others as objects. */
type EncodedEvent = RunEvent | unknown[];

function toTuple(event: RunEvent): EncodedEvent {
  switch (event.kind) {
    case "state":
      return [
        "state",
        event.id,
        event.runKind,
        event.runId,
        event.timestamp,
        event.type,
        event.name,
        event.message,
        event.runCount,
        event.scheduledTime ?? null,
        event.data ?? null,
        event.force === true,
      ];
    case "log":
      return [
        "log",
        event.id,
        event.timestamp,
        event.flowRunId,
        event.taskRunId,
        event.name,
        event.level,
        event.message,
      ];
    case "task_run_created": {
      const run = event.taskRun;
      return [
        "task_run_created",
        event.id,
        event.timestamp,
        run.id,
        run.name,
        run.flowRunId,
        run.taskKey,
        run.dynamicKey,
        run.cacheKey,
        run.cacheExpiration,
        run.tags,
        run.taskInputs,
        run.expectedStartTime,
      ];
    }
    default:
      return event;
  }
}

function fromTuple(tuple: unknown[]): RunEvent {
  // Fields are taken as they come: a malformed one makes Postgres refuse the event (dead-lettered).
  const field = (index: number) => tuple[index] as never;
  switch (tuple[0]) {
    case "state": {
      const event: StateEvent = {
        kind: "state",
        id: field(1),
        runKind: field(2),
        runId: field(3),
        timestamp: field(4),
        type: field(5),
        name: field(6),
        message: field(7),
        runCount: field(8),
      };
      // The optional fields only when set, as the producer's object had them.
      if (tuple[9] !== null) event.scheduledTime = field(9);
      if (tuple[10] !== null) event.data = field(10);
      if (tuple[11] === true) event.force = true;
      return event;
    }
    case "log":
      return {
        kind: "log",
        id: field(1),
        timestamp: field(2),
        flowRunId: field(3),
        taskRunId: field(4),
        name: field(5),
        level: field(6),
        message: field(7),
      } satisfies LogEvent;
    case "task_run_created":
      return {
        kind: "task_run_created",
        id: field(1),
        timestamp: field(2),
        taskRun: {
          id: field(3),
          name: field(4),
          flowRunId: field(5),
          taskKey: field(6),
          dynamicKey: field(7),
          cacheKey: field(8),
          cacheExpiration: field(9),
          tags: field(10),
          taskInputs: field(11),
          expectedStartTime: field(12),
        },
      } satisfies TaskRunCreatedEvent;
    default:
      throw new Error(`not an event: an array of kind ${JSON.stringify(tuple[0])}`);
  }
}

export function encodeEvents(events: readonly RunEvent[]): string {
  return JSON.stringify(events.map(toTuple));
}

/** The events of one entry; throws if it holds anything but events. */
export function decodeEvents(raw: string): RunEvent[] {
  const decoded: unknown = JSON.parse(raw);
  const items = Array.isArray(decoded) ? decoded : [decoded];
  return items.map((item: unknown) => {
    if (Array.isArray(item)) return fromTuple(item);
    if (typeof item !== "object" || item === null) throw new Error("not an event object");
    return item as RunEvent;
  });
}

/** Compares two stream ids ("ms-seq"). */
export function compareStreamIds(a: string, b: string): number {
  const [am = "0", as = "0"] = a.split("-");
  const [bm = "0", bs = "0"] = b.split("-");
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** Creates the consumer group (and the stream) if missing; harmless when both exist. */
export async function ensureEventStreamGroup(redis: Redis, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
  } catch (error) {
    if (!(error instanceof Error) || !error.message.includes("BUSYGROUP")) throw error;
  }
}

/**
 * True once every entry up to `lastId` has been delivered to the group and acknowledged, whoever
 * consumed it (this process's recorder or a server's).
 */
export async function isRecordedUpTo(redis: Redis, stream: string, group: string, lastId: string): Promise<boolean> {
  const groups = (await redis.xinfo("GROUPS", stream)) as unknown[][];
  const info = groups.map(fieldsToObject).find((g) => g.name === group);
  if (!info) return false;
  if (compareStreamIds(String(info["last-delivered-id"]), lastId) < 0) return false;
  const pending = (await redis.xpending(stream, group, "-", lastId, 1)) as unknown[];
  return pending.length === 0;
}

function fieldsToObject(fields: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[String(fields[i])] = fields[i + 1];
  return out;
}
