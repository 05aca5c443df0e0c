/**
 * Payloads crossing processes: a queued task run's arguments (flow → task worker) and its result
 * (task worker → the awaiting flow). One at most `inlineLimit` long (as JSON text) travels inline
 * in the queue message, exactly as the value; a longer one is written to a `ResultStore` and the
 * message carries a reference to it, `{ $ref: key, bytes }`, which the receiving side resolves.
 *
 * The size is counted without building the JSON text (`jsonLengthWithin`, which stops as soon as
 * the count passes the limit), so a small value is serialized once, by the queue, as before; only
 * a large one is serialized here, once, and that text is what the store keeps.
 *
 * A value that is itself an object with a `$ref` or `$inline` key travels wrapped as
 * `{ $inline: value }`, so that no value is ever mistaken for a reference.
 */

/** Where payloads too large to travel inline are kept, as JSON text, by key (Postgres, or any other store). */
export interface ResultStore {
  /** Writes (or overwrites) the payload under `key`. */
  put(key: string, json: string): Promise<void>;
  /** The JSON text stored under `key`, or null when there is none (deleted, or expired). */
  get(key: string): Promise<string | null>;
  /** Deletes the payloads under `keys` (missing ones are ignored). */
  delete(keys: readonly string[]): Promise<void>;
}

/** Payloads up to this many characters of JSON travel inline (SLUICE_INLINE_PAYLOAD_BYTES). */
export const DEFAULT_INLINE_PAYLOAD_BYTES = 64 * 1024;

/** What a message carries in place of a payload kept in the store. */
export interface PayloadRef {
  $ref: string;
  /** Length of the stored JSON text. */
  bytes: number;
}

export type EncodedPayload =
  | { value: unknown; stored: null }
  /** `stored.json` must be put in the store under `stored.key` before the message is sent. */
  | { value: PayloadRef; stored: { key: string; json: string } };

/**
 * What a message carries for `value`: the value itself when its JSON is at most `inlineLimit`
 * long, else a reference to `key`, with the JSON text to put there. `Infinity`: always inline.
 */
export function encodePayload(value: unknown, key: string, inlineLimit: number): EncodedPayload {
  if (inlineLimit === Number.POSITIVE_INFINITY || jsonLengthWithin(value, inlineLimit) !== null)
    return { value: escapeInline(value), stored: null };
  const json = JSON.stringify(value) as string | undefined; // throws as the queue would (cycles, BigInt)
  // Counted differently than serialized (a toJSON that is not a pure function): trust the text.
  if (json === undefined || json.length <= inlineLimit) return { value: escapeInline(value), stored: null };
  return { value: { $ref: key, bytes: json.length }, stored: { key, json } };
}

/** Whether a received payload is a reference to resolve through the store. */
export function isPayloadRef(encoded: unknown): encoded is PayloadRef {
  return (
    typeof encoded === "object" &&
    encoded !== null &&
    Object.hasOwn(encoded, "$ref") &&
    typeof (encoded as PayloadRef).$ref === "string"
  );
}

/** The value of a received inline payload (anything but a reference). */
export function inlinePayload(encoded: unknown): unknown {
  return typeof encoded === "object" && encoded !== null && Object.hasOwn(encoded, "$inline")
    ? (encoded as { $inline: unknown }).$inline
    : encoded;
}

function escapeInline(value: unknown): unknown {
  return typeof value === "object" &&
    value !== null &&
    (Object.hasOwn(value, "$ref") || Object.hasOwn(value, "$inline"))
    ? { $inline: value }
    : value;
}

/** Thrown to stop counting once past the limit. */
const OVER_LIMIT = Symbol("over limit");
/** Characters a JSON string literal escapes (lone surrogates included: any surrogate takes the exact path). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes the control characters
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(value).length` when it is at most `limit`, else null, counted without building
 * the text and given up as soon as the count passes `limit` (so a huge value costs little).
 * Null also when `JSON.stringify` would throw (cycles, BigInt): the caller serializes and sees why.
 */
export function jsonLengthWithin(value: unknown, limit: number): number | null {
  const measured = measureJson(value, limit);
  return typeof measured === "number" ? measured : null;
}

/**
 * Like `jsonLengthWithin`, saying why there is no length: "over-limit", "no-json" (undefined, a
 * function, a symbol), or the error `JSON.stringify` would throw (BigInt; a cycle counts as over the limit).
 */
export function measureJson(value: unknown, limit: number): number | "over-limit" | "no-json" | { error: unknown } {
  const budget = { left: limit };
  try {
    if (!measure(value, "", budget)) return "no-json";
    return limit - budget.left;
  } catch (error) {
    return error === OVER_LIMIT ? "over-limit" : { error };
  }
}

function spend(budget: { left: number }, length: number): void {
  budget.left -= length;
  if (budget.left < 0) throw OVER_LIMIT;
}

function spendString(budget: { left: number }, text: string): void {
  spend(budget, text.length + 2); // escapes only add to this: past the limit already means past it
  if (NEEDS_ESCAPE.test(text)) spend(budget, (JSON.stringify(text) as string).length - text.length - 2);
}

/** Counts `value` as JSON.stringify writes it (SerializeJSONProperty); false when it writes nothing. */
function measure(input: unknown, key: string | number, budget: { left: number }): boolean {
  let value = input;
  if ((typeof value === "object" && value !== null) || typeof value === "bigint") {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, String(key));
  }
  if (typeof value === "object" && value !== null) {
    if (value instanceof Number) value = Number(value);
    else if (value instanceof String) value = String(value);
    else if (value instanceof Boolean) value = value.valueOf();
  }
  switch (typeof value) {
    case "string":
      spendString(budget, value);
      return true;
    case "number":
      spend(budget, Number.isFinite(value) ? String(value).length : 4);
      return true;
    case "boolean":
      spend(budget, value ? 4 : 5);
      return true;
    case "undefined":
    case "function":
    case "symbol":
      return false;
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
  }
  if (value === null) {
    spend(budget, 4);
    return true;
  }
  if (Array.isArray(value)) {
    spend(budget, 2 + Math.max(0, value.length - 1)); // brackets and commas
    for (let i = 0; i < value.length; i++) if (!measure(value[i], i, budget)) spend(budget, 4); // null
    return true;
  }
  const members = value as Record<string, unknown>;
  spend(budget, 2);
  let first = true;
  for (const name of Object.keys(members)) {
    if (!measure(members[name], name, budget)) continue; // member omitted
    spendString(budget, name);
    spend(budget, first ? 1 : 2); // colon (and comma)
    first = false;
  }
  return true;
}

/** What a JSON round trip of `value` gives back: a copy later changes to `value` cannot reach. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
