/**
 * A flow mapping a task over items with a ~1 MB argument and a ~1 MB result each (they travel
 * through the result store), beside a task with small ones (they travel inline). Every task run
 * waits until the file `gate` exists, so a test can look at the queued jobs first.
 */
import { existsSync } from "node:fs";
import { flow, task, unmapped } from "@sluice/sdk";
import { z } from "zod";

/** `bytes` characters of text JSON must escape (quotes, backslashes, newlines) and non-ASCII, different per item. */
export function blob(item: number, bytes: number): string {
  const unit = `item ${item}: "quoted", back\\slash, line\nbreak, tab\t, héllo 日本 😀 | `;
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

async function passGate(gate: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!existsSync(gate) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

export const bigEcho = task({ name: "big_echo" }, async (text: string, gate: string) => {
  await passGate(gate);
  return { upper: text.toUpperCase(), length: text.length };
});

/** Returns an object that looks like a payload reference: it must come back as it is. */
export const smallEcho = task({ name: "small_echo" }, async (n: number, gate: string) => {
  await passGate(gate);
  return { $ref: `not-a-reference-${n}`, n };
});

export const bigPayloadsFlow = flow(
  {
    name: "Big Payloads Flow",
    parameters: z.object({
      count: z.number().int().default(3),
      bytes: z.number().int().default(1_000_000),
      gate: z.string(),
    }),
  },
  async ({ count, bytes, gate }) => {
    const texts = Array.from({ length: count }, (_, i) => blob(i, bytes));
    const big = bigEcho.map(texts, unmapped(gate));
    const small = smallEcho.map([1, 2], unmapped(gate));
    const [bigResults, smallResults] = await Promise.all([big.result(), small.result()]);
    return {
      big: bigResults.map((result, i) => ({
        exact: result.upper === texts[i]?.toUpperCase() && result.length === bytes,
        length: result.upper.length,
      })),
      small: smallResults,
    };
  },
);
