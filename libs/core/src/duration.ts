/** Durations as users write them: milliseconds (number) or "500ms", "30s", "15m", "1h", "7d", "1h30m". */
import { InvalidInputError } from "./errors.js";

export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** One "<number><unit>" part; parts may be separated by spaces ("1h 30m"). */
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*/gy;

export function parseDuration(value: Duration): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) throw new InvalidInputError(`Invalid duration: ${value}`);
    return value;
  }
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(text); match; match = PART.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = PART.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new InvalidInputError(`Invalid duration '${value}': use milliseconds or a string like "30s", "15m", "1h"`);
  }
  return total;
}
