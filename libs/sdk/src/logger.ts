/** `getRunLogger()`: the logger of the current flow or task run. */
import { NoRunContextError } from "@sluice/core";
import { currentRunContext } from "./context.js";
import type { RunLogger } from "./run-logger.js";

export function getRunLogger(): RunLogger {
  const context = currentRunContext();
  if (!context) throw new NoRunContextError("getRunLogger()");
  return context.logger;
}
