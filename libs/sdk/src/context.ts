/** The run context: which flow run and task run the current code belongs to (an async context slot). */
import { NoRunContextError, type SqlDatabase } from "@sluice/core";
import { ContextSlot } from "@sluice/telemetry";
import type { Engine } from "./engine.js";
import type { RunLogger } from "./run-logger.js";

export interface FlowRunInfo {
  id: string;
  name: string;
  flowName: string;
  parameters: Record<string, unknown>;
}

export interface TaskRunInfo {
  id: string;
  name: string;
  taskKey: string;
  /** 1 for the first attempt. */
  runCount: number;
}

export interface RunContext {
  engine: Engine;
  flowRun: FlowRunInfo | null;
  taskRun: TaskRunInfo | null;
  logger: RunLogger;
  /** Aborted when the run times out or is cancelled. */
  signal: AbortSignal;
  /** Whether console.log inside this run is captured as run logs. */
  logPrints: boolean;
  /** Per flow run: how many runs of each task key were created, for task run names ("extract_data-0"). */
  taskCounters: Map<string, number>;
}

export const runContextStorage = new ContextSlot<RunContext>("sluice.run_context");

export function currentRunContext(): RunContext | undefined {
  return runContextStorage.get();
}

/** The current run's context; throws outside a flow or task run. */
export function getRunContext(): RunContext {
  const context = runContextStorage.get();
  if (!context) throw new NoRunContextError("getRunContext()");
  return context;
}

/** The abort signal of the current run: fires on timeout or cancellation. */
export function currentSignal(): AbortSignal {
  return getRunContext().signal;
}

/** The database the engine offers to flow code: the cluster's Postgres, or the embedded one. */
export function useDatabase(): SqlDatabase {
  const context = getRunContext();
  if (!context.engine.database) throw new NoRunContextError("useDatabase() with a configured database");
  return context.engine.database;
}
