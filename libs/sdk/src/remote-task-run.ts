/**
 * Running, in a worker, a task run that a flow submitted from another process: the task is loaded
 * from its module and runs inside a context standing for the submitting flow run, so it is
 * recorded, retried, cached and limited exactly like an inline task run.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidInputError, type TaskRunRequest } from "@sluice/core";
import { type RunContext, runContextStorage } from "./context.js";
import type { Engine } from "./engine.js";
import { installPrintCapture } from "./print-capture.js";
import { createRunLogger } from "./run-logger.js";
import { isTask, type QueuedRunOptions, type Task } from "./task.js";
import { importUserModule } from "./user-modules.js";

/** Not an async function: that would be one more promise around the run's own, per queued run. */
export function runTaskRunRequest(
  engine: Engine,
  task: Task<unknown[], unknown>,
  request: TaskRunRequest,
  signal: AbortSignal,
  /** How the worker records it and takes its concurrency slots (default: as an inline run). */
  queued?: QueuedRunOptions,
): Promise<unknown> {
  try {
    installPrintCapture();
    const flowRun = request.flowRun;
    const context: RunContext = {
      engine,
      flowRun: flowRun ? { ...flowRun, parameters: {} } : null,
      taskRun: null,
      logger: createRunLogger({
        engine,
        flowRunId: flowRun?.id ?? null,
        taskRunId: null,
        label: flowRun ? `Flow run '${flowRun.name}'` : "Task",
        name: "sluice.flow_runs",
      }),
      signal,
      logPrints: request.logPrints,
      taskCounters: new Map(),
    };
    return runContextStorage.run(context, () => task.runRequest(request, queued));
  } catch (error) {
    return Promise.reject(error); // a rejection, as an async function would give
  }
}

/** The task named `taskName` among the exports of `modulePath` (relative to `baseDir`). */
export async function loadTask(
  baseDir: string,
  modulePath: string,
  taskName: string,
): Promise<Task<unknown[], unknown>> {
  const path = resolve(baseDir, modulePath);
  if (!existsSync(path)) throw new InvalidInputError(`No such file: ${modulePath}`);
  const module = await importUserModule(path);
  const found = Object.values(module).find((value) => isTask(value) && value.taskName === taskName);
  if (!found)
    throw new InvalidInputError(`${modulePath} exports no task named '${taskName}': export it so workers can run it`);
  return found as Task<unknown[], unknown>;
}
