/** Parsing raw Redis stream replies (ioredis returns them untyped). */

export interface StreamEntry {
  id: string;
  /** null when the entry was deleted (trimmed) while still pending. */
  fields: Record<string, string> | null;
}

/** The entries of an XREADGROUP stream reply or of XAUTOCLAIM's second element. */
export function parseStreamEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((item) => {
    const [id, fields] = item as [unknown, unknown];
    return { id: String(id), fields: Array.isArray(fields) ? pairsToObject(fields, String) : null };
  });
}

/** XINFO GROUPS / XINFO CONSUMERS: a list of flat field-value arrays. */
export function parseXinfo(raw: unknown): Record<string, unknown>[] {
  if (!Array.isArray(raw)) return [];
  return raw.map((fields) => (Array.isArray(fields) ? pairsToObject(fields, (value) => value) : {}));
}

/** The smallest stream id after `id` ("ms-seq" → "ms-(seq+1)"). */
export function successorId(id: string): string {
  const [ms = "0", seq = "0"] = id.split("-");
  return `${ms}-${BigInt(seq) + 1n}`;
}

function pairsToObject<T>(fields: unknown[], convert: (value: unknown) => T): Record<string, T> {
  const out: Record<string, T> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[String(fields[i])] = convert(fields[i + 1]);
  return out;
}
