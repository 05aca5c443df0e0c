/**
 * Rows in the text format of Postgres's COPY: a line per row, fields separated by tabs, `\N` for
 * null, and backslash, tab, newline and carriage return escaped with a backslash. Values are
 * cleaned as jsonb parameters are (json-param.ts): NUL dropped, a lone UTF-16 surrogate replaced,
 * since Postgres text holds neither.
 */
import { storableJson, storableText } from "./json-param.js";

const ESCAPED = /[\\\t\n\r]/;
const EVERY_ESCAPED = new RegExp(ESCAPED.source, "g");
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const escapeChar = (char: string) => ESCAPES[char] ?? char;

/** Text as COPY reads it back: escaped (most fields, ids and timestamps, need nothing). */
function escaped(text: string): string {
  return ESCAPED.test(text) ? text.replace(EVERY_ESCAPED, escapeChar) : text;
}

/**
 * One field: null or undefined as null; in a jsonb column (`json`) any other value as JSON, JSON's
 * null as null. As in a jsonb parameter (`nullif(t->n, 'null')`), a number JSON cannot hold
 * (Infinity, NaN: `JSON.parse` makes 1e400 Infinity) is null.
 */
function copyField(value: unknown, json: boolean): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "string" && !json) return escaped(storableText(value));
  if (json || typeof value === "object") {
    const text = JSON.stringify(value);
    return text === "null" ? "\\N" : escaped(storableJson(text));
  }
  if (typeof value === "number" && !Number.isFinite(value)) return "\\N";
  return String(value);
}

/**
 * The rows as COPY text, each row's fields in the order of the COPY statement's columns; the
 * column at `jsonColumn` (if any) is jsonb.
 */
export function toCopyText(rows: readonly (readonly unknown[])[], jsonColumn = -1): string {
  let text = "";
  for (const row of rows) {
    for (let column = 0; column < row.length; column++) {
      text += column === 0 ? "" : "\t";
      text += copyField(row[column], column === jsonColumn);
    }
    text += "\n";
  }
  return text;
}
