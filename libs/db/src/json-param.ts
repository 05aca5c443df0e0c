/** Parameters of hand-written statements: rows serialised into one jsonb parameter, text arrays as literals. */

/** NUL, and lone UTF-16 surrogates, are valid in JS strings but rejected by Postgres text and jsonb. */
const UNSTORABLE = /\\u0000|\\ud[89a-f]/i;
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text as Postgres text and jsonb take it: NUL dropped, a lone surrogate replaced (U+FFFD). */
export function storableText(text: string): string {
  if (!text.includes("\u0000") && !SURROGATE.test(text)) return text;
  return text.replaceAll("\u0000", "").replace(LONE_SURROGATE, "\uFFFD");
}

const storableStrings = (_key: string, value: unknown) => (typeof value === "string" ? storableText(value) : value);

/** A jsonb parameter: a batch's rows, or any one JSON value. */
export function toJsonParam(value: unknown): string {
  const json = JSON.stringify(value);
  // Fast path: almost no batch contains them; only then pay for a replacer pass.
  if (!UNSTORABLE.test(json)) return json;
  return JSON.stringify(value, storableStrings);
}

/** JSON text as jsonb takes it: unchanged, unless it holds NULs or lone surrogates (dropped, replaced). */
export function storableJson(json: string): string {
  if (!UNSTORABLE.test(json)) return json;
  return JSON.stringify(JSON.parse(json), storableStrings);
}

/** `{"a","b \"c\""}`: a text[] literal, every element quoted (so commas, braces and spaces are kept). */
export function textArrayLiteral(values: readonly string[] | null | undefined): string {
  if (!values || values.length === 0) return "{}";
  return `{${values.map((value) => `"${String(value).replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/** `{id1,id2}`: a uuid[] literal, one parameter however many ids (uuids need no quoting). */
export function uuidArrayLiteral(ids: readonly string[]): string {
  return `{${ids.join(",")}}`;
}

/**
 * `value`, or `fallback` where a jsonb parameter would carry null: null, undefined, or a number
 * JSON cannot hold (Infinity, NaN; `JSON.parse` makes 1e400 Infinity). For NOT NULL columns with
 * a default, written from values rather than from JSON (COPY, a worked-out current state).
 */
export const orDefault = <T>(value: T | null | undefined, fallback: T): T =>
  value === null || value === undefined || (typeof value === "number" && !Number.isFinite(value)) ? fallback : value;
