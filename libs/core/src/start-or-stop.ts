/**
 * Starts something made of several parts; when starting fails, stops what had started (a part
 * left running or a connection left open would keep the process alive) and throws the start's
 * error, the one to report. A failure while stopping goes to `onStopError` (dropped without it).
 */
export async function startOrStop(
  start: () => Promise<void>,
  stop: () => Promise<void>,
  onStopError?: (error: unknown) => void,
): Promise<void> {
  try {
    await start();
  } catch (error) {
    await stop().catch((stopError: unknown) => onStopError?.(stopError));
    throw error;
  }
}
