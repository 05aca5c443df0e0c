/**
 * `logPrints: true`: console.log/console.info inside a run become INFO log lines of that run,
 * like Prefect's log_prints. Outside such a run the console behaves as usual.
 */
import { runContextStorage } from "./context.js";
import { formatMessage } from "./run-logger.js";

let installed = false;

export function installPrintCapture(): void {
  if (installed) return;
  installed = true;
  for (const method of ["log", "info"] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const context = runContextStorage.get();
      if (context?.logPrints) {
        const [first, ...rest] = args;
        context.logger.info(formatMessage(first ?? "", rest));
        return;
      }
      original(...args);
    };
  }
}
