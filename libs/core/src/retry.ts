/** Retry delay policy, shared by inline retries and queued retries. */

/** `retryDelaySeconds`: one delay for every retry, one per retry (the last repeats), or a function of the attempt. */
export type RetryDelay = number | readonly number[] | ((retryNumber: number) => number);

/** Prefect's exponential_backoff: delays of factor * 2^n seconds (n = 0, 1, 2, ...). */
export function exponentialBackoff({ backoffFactor }: { backoffFactor: number }): (retryNumber: number) => number {
  return (retryNumber) => backoffFactor * 2 ** (retryNumber - 1);
}

/**
 * Delay in milliseconds before retry number `retryNumber` (1 for the first retry).
 * `jitterFactor` spreads the delay up to +factor of itself so that many runs failing together
 * do not retry together (Prefect's retry_jitter_factor).
 */
export function retryDelayMs(
  delay: RetryDelay | undefined,
  retryNumber: number,
  jitterFactor = 0,
  random: () => number = Math.random,
): number {
  let seconds: number;
  if (delay === undefined) seconds = 0;
  else if (typeof delay === "number") seconds = delay;
  else if (typeof delay === "function") seconds = delay(retryNumber);
  else seconds = delay.length === 0 ? 0 : (delay[Math.min(retryNumber, delay.length) - 1] as number);
  const base = Math.max(0, seconds) * 1000;
  const jitter = jitterFactor > 0 ? base * jitterFactor * random() : 0;
  return Math.round(base + jitter);
}
