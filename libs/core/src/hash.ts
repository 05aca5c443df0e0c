/** Stable hashing of task inputs for cache keys. */
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth, so key order never changes the hash. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(normalise(value, new WeakSet()));
}

/**
 * A JSON-safe form that keeps apart inputs that are different and merges inputs that are the same:
 * object keys sorted, undefined properties dropped (as JSON does), Sets and Maps order-insensitive,
 * objects with a JSON form (URL, Buffer) hashed by it, and tags for what JSON would lose.
 */
function normalise(value: unknown, seen: WeakSet<object>): unknown {
  if (value === undefined) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === "bigint") return { $bigint: value.toString() };
  if (typeof value === "function" || typeof value === "symbol") return `<${typeof value}>`;
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return { $date: Number.isNaN(value.getTime()) ? null : value.toISOString() };
  if (value instanceof RegExp) return { $regexp: String(value) };
  if (value instanceof Error) return { $error: { name: value.name, message: value.message } };
  if (seen.has(value)) throw new TypeError("Cannot hash a value with circular references");
  seen.add(value);
  try {
    if (value instanceof Map) {
      return { $map: [...value].map(([k, v]) => JSON.stringify([normalise(k, seen), normalise(v, seen)])).sort() };
    }
    if (value instanceof Set) return { $set: [...value].map((v) => JSON.stringify(normalise(v, seen))).sort() };
    if (Array.isArray(value)) return value.map((item) => normalise(item, seen));
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return normalise(toJSON.call(value), seen);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = normalise(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Hash of a task's name and inputs: same inputs (whatever the key order) → same key. */
export function hashTaskInputs(taskKey: string, inputs: unknown): string {
  return sha256Hex(`${taskKey}:${stableStringify(inputs)}`);
}
