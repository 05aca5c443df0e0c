/**
 * Work deferred to the end of this turn of the event loop, all of it in one callback. The event
 * sink, the reply sender and the chunk marks each gather what a turn produced, then send it; in
 * one callback their Redis commands go out in one auto-pipelined write. With a setImmediate each,
 * Node runs process.nextTick (where ioredis sends its pipeline) between them: three writes, three
 * system calls, which were a worker's largest single cost in W2.
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
