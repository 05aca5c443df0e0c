/** Polling until something holds, for tests that watch other processes, queues or tables. */

export interface WaitOptions {
  /** How often to look (default 50 ms). */
  everyMs?: number;
  /** Take a check that throws as "not yet" (a process still starting); by default a throw ends the wait. */
  ignoreErrors?: boolean;
}

/** Polls `check` until it gives a value, which it returns; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  { everyMs = 50, ignoreErrors = false }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await (ignoreErrors ? check().catch(() => undefined) : check());
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
