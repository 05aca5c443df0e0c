/** Ids of runs. */
import { randomUUID } from "node:crypto";

/**
 * A random UUID held as one flat string. Node builds `randomUUID()`'s text by concatenation, which
 * V8 keeps as a tree of string pieces (about 490 bytes instead of 66) until something flattens it,
 * and a `.map()` keeps tens of thousands of run ids alive while its runs wait in the queue.
 * `JSON.stringify` flattens the string in place, for less than the cost of making it.
 */
export function newRunId(): string {
  const id = randomUUID();
  JSON.stringify(id);
  return id;
}
