/**
 * How far the recorders are behind the run-event stream: entries not yet acknowledged (delivered
 * and pending, or not delivered yet) and the age of the oldest of them (stream ids are times).
 */
import type { Redis } from "ioredis";

export interface EventStreamLag {
  /** Entries not yet acknowledged by the group (pending + not yet delivered). */
  pendingEvents: number;
  /** Seconds since the oldest of them was added (0 when there is none). */
  oldestUnackedSeconds: number;
}

function fields(raw: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i])] = raw[i + 1];
  return out;
}

function idTime(id: unknown): number | null {
  if (typeof id !== "string") return null;
  const ms = Number(id.split("-", 1)[0]);
  return Number.isFinite(ms) ? ms : null;
}

export async function readEventStreamLag(
  redis: Redis,
  stream: string,
  group: string,
  now = Date.now(),
): Promise<EventStreamLag> {
  let groups: unknown[];
  try {
    groups = (await redis.xinfo("GROUPS", stream)) as unknown[];
  } catch (error) {
    // No stream yet: nothing was ever emitted, nothing is behind.
    if (error instanceof Error && /no such key/i.test(error.message))
      return { pendingEvents: 0, oldestUnackedSeconds: 0 };
    throw error;
  }
  const info = groups.map(fields).find((g) => g.name === group);
  if (!info) {
    const length = Number(await redis.xlen(stream));
    const first = length > 0 ? ((await redis.xrange(stream, "-", "+", "COUNT", 1)) as [string, string[]][]) : [];
    const firstAt = idTime(first[0]?.[0]);
    return { pendingEvents: length, oldestUnackedSeconds: firstAt === null ? 0 : Math.max(0, now - firstAt) / 1000 };
  }
  const pending = Number(info.pending ?? 0);
  const lag = info.lag === null || info.lag === undefined ? 0 : Number(info.lag);
  const times: number[] = [];
  if (pending > 0) {
    const summary = (await redis.xpending(stream, group)) as unknown[];
    const at = idTime(summary[1]);
    if (at !== null) times.push(at);
  }
  if (lag > 0) {
    const next = (await redis.xrange(stream, `(${String(info["last-delivered-id"])}`, "+", "COUNT", 1)) as [
      string,
      string[],
    ][];
    const at = idTime(next[0]?.[0]);
    if (at !== null) times.push(at);
  }
  const oldest = times.length > 0 ? Math.min(...times) : null;
  return {
    pendingEvents: pending + lag,
    oldestUnackedSeconds: oldest === null ? 0 : Math.max(0, now - oldest) / 1000,
  };
}
