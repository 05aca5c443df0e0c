/**
 * The run-event stream on Redis: producers XADD entries whose field `e` is the JSON of one event
 * or of an array of events (a producer batches what it emits in one tick: one entry, one round
 * trip, one ack, however many task runs changed state); the recorder reads it with a consumer
 * group and acknowledges after the Postgres commit.
 */
import type { RunEvent } from "@sluice/core";
import type { Redis } from "ioredis";

export const EVENT_FIELD = "e";

export function encodeEvents(events: readonly RunEvent[]): string {
  return JSON.stringify(events.length === 1 ? events[0] : events);
}

/** The events of one entry; throws if it holds anything but event objects. */
export function decodeEvents(raw: string): RunEvent[] {
  const decoded: unknown = JSON.parse(raw);
  const events = Array.isArray(decoded) ? decoded : [decoded];
  for (const event of events) {
    if (typeof event !== "object" || event === null || Array.isArray(event)) throw new Error("not an event object");
  }
  return events as RunEvent[];
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
