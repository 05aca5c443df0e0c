/**
 * Ids of runs, and of the rows recorded about them (states, log lines).
 *
 * Both are UUIDs written as text straight into a 36-byte buffer from a pool of random bytes, then
 * read out as one flat string. `randomUUID()` builds its text by concatenation, which V8 keeps as
 * a tree of string pieces (about 490 bytes instead of 66) until something flattens it, and slicing
 * or prefixing that text makes more: a queued no-op task run makes five ids, and they were 14% of
 * the bytes a worker allocated per run. Written this way an id costs half the time and about a
 * sixth of the garbage, and a `.map()` that keeps tens of thousands of run ids alive while their
 * runs wait in the queue holds 66 bytes for each.
 */
import { randomFillSync } from "node:crypto";

const HEX = Buffer.from("0123456789abcdef", "latin1");

/** Random bytes, drawn from the system 4 KiB at a time (as `randomUUID()` caches its entropy). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function randomByte(): number {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++] as number;
}

function writeHexByte(text: Buffer, at: number, byte: number): void {
  text[at] = HEX[byte >> 4] as number;
  text[at + 1] = HEX[byte & 0xf] as number;
}

/** Where each of a UUID's 16 bytes goes in its text ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"). */
const BYTE_AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** A UUID's text, dashes in place; ids are written into it and read out as new strings. */
function uuidText(): Buffer {
  const text = Buffer.alloc(36, "0", "latin1");
  for (const at of [8, 13, 18, 23]) text[at] = 0x2d; // "-"
  return text;
}

const rowText = uuidText();
rowText[14] = 0x37; // "7": the version
let lastMs = -1;
let sequence = 0;

/**
 * A time-ordered UUID (version 7, RFC 9562) for a row the recorder writes (a state, a log line):
 * ids made one after another sort one after another, so each insert lands at the end of its
 * table's primary-key index rather than on a random page of it. A 20,000-run `.map()` writes
 * 100,000 such rows; random ids made recording them about 16% slower (`npm run bench:recorder`).
 *
 * The 48-bit millisecond time, then a 12-bit counter within the millisecond (RFC 9562's "fixed
 * bit-length dedicated counter"), then the variant and 62 random bits.
 */
export function newRowId(): string {
  const now = Date.now();
  if (now > lastMs) {
    setTime(now);
  } else if (++sequence > 0xfff) {
    // 4,096 ids in one millisecond: borrow the next one, so the order still holds.
    setTime(lastMs + 1);
  }
  rowText[15] = HEX[sequence >> 8] as number;
  writeHexByte(rowText, 16, sequence & 0xff);
  // The variant (binary 10) in the top two bits of byte 8, then random bits to the end.
  writeHexByte(rowText, 19, 0x80 | (randomByte() & 0x3f));
  for (let byte = 9; byte < 16; byte++) writeHexByte(rowText, BYTE_AT[byte] as number, randomByte());
  return rowText.toString("latin1");
}

function setTime(ms: number): void {
  lastMs = ms;
  sequence = 0;
  // The 48-bit time is bytes 0-5; 2^32 splits it, since bit operators work on 32 bits.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  writeHexByte(rowText, 0, (high >>> 8) & 0xff);
  writeHexByte(rowText, 2, high & 0xff);
  for (let byte = 2; byte < 6; byte++)
    writeHexByte(rowText, BYTE_AT[byte] as number, (low >>> ((5 - byte) * 8)) & 0xff);
}

const runText = uuidText();

/**
 * A run's id: random (version 4), not time-ordered, since people tell runs apart by their first
 * characters (`sluice flow-run logs 3f2a9c1e`, the UI's short ids), and ids made in the same
 * minute would share them.
 */
export function newRunId(): string {
  for (let byte = 0; byte < 16; byte++) writeHexByte(runText, BYTE_AT[byte] as number, randomByte());
  runText[14] = 0x34; // "4": the version
  writeHexByte(runText, 19, 0x80 | (randomByte() & 0x3f)); // the variant (binary 10), then random bits
  return runText.toString("latin1");
}
