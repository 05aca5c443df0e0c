/**
 * Work deferred to the end of this turn of the event loop, all of it in one callback. The event
 * sink and the chunk marks each gather what a turn produced, then send it; in one callback their
 * Redis commands join one auto-pipelined write, where with a setImmediate each Node would run
 * process.nextTick between them (about 4% fewer Redis reads in a quick W2 run).
 */
let flushes: (() => void)[] = [];

/** Calls `flush` once the current turn's work is done (in a setImmediate shared with the others). */
export function atEndOfTurn(flush: () => void): void {
  if (flushes.length === 0) setImmediate(runFlushes);
  flushes.push(flush);
}

function runFlushes(): void {
  const due = flushes;
  flushes = [];
  for (const flush of due) {
    try {
      flush();
    } catch (error) {
      // One failing flush must not keep the others' data back; the error still surfaces.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
