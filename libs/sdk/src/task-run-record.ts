/** Creating a task run: its record event, its first state, its logger. */
import { jsonLengthWithin, newRowId, newRunId } from "@sluice/core";
import type { RunContext } from "./context.js";
import type { Engine } from "./engine.js";
import { createRunLogger, type RunLogger } from "./run-logger.js";
import { RunStates } from "./run-states.js";

export interface TaskRunRecord {
  id: string;
  name: string;
  taskKey: string;
  states: RunStates;
  logger: RunLogger;
}

export interface NewTaskRun {
  taskKey: string;
  name: string;
  inputs: unknown;
  tags?: string[];
  cacheKey?: string | null;
  cacheExpiration?: string | null;
  /** Given by a submitter that named the run before another process runs it. */
  id?: string;
  dynamicKey?: number;
  /**
   * The run's creation and first states were emitted already (a queued run picked again after it
   * waited for a concurrency slot off the worker): they are not emitted twice.
   */
  recorded?: boolean;
}

/** Emits the task run's creation and its Pending state (unless `recorded`); `parent` is the calling run's context, if any. */
export function createTaskRunRecord(
  parent: RunContext | undefined,
  run: NewTaskRun,
  engineOverride?: Engine,
): TaskRunRecord {
  const engine = engineOverride ?? (parent?.engine as Engine);
  const dynamicKey = run.dynamicKey ?? nextDynamicKey(parent, run.taskKey);
  const id = run.id ?? newRunId();
  const name = `${run.name}-${dynamicKey}`;
  const now = new Date().toISOString();
  if (!run.recorded) {
    engine.events.emit({
      kind: "task_run_created",
      id: newRowId(),
      timestamp: now,
      taskRun: {
        id,
        name,
        flowRunId: parent?.flowRun?.id ?? null,
        taskKey: run.taskKey,
        dynamicKey: String(dynamicKey),
        cacheKey: run.cacheKey ?? null,
        cacheExpiration: run.cacheExpiration ?? null,
        tags: run.tags ?? [],
        taskInputs: summariseInputs(run.inputs),
        expectedStartTime: now,
      },
    });
  }
  const states = new RunStates(engine.events, "task_run", id, run.taskKey);
  if (!run.recorded) states.set({ name: "Pending" });
  const logger = createRunLogger({
    engine,
    flowRunId: parent?.flowRun?.id ?? null,
    taskRunId: id,
    label: `Task run '${name}'`,
    name: "sluice.task_runs",
  });
  return { id, name, taskKey: run.taskKey, states, logger };
}

const MAX_SHOWN_INPUT_BYTES = 1024;

/** Inputs as shown in the UI: small values as they are, big ones described, never the whole payload. */
function summariseInputs(inputs: unknown): Record<string, unknown> {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const out: Record<string, unknown> = {};
  list.forEach((value, index) => {
    // Counted, not serialized: stops after 1 KiB, however big the input (a whole batch, often).
    out[String(index)] =
      jsonLengthWithin(value, MAX_SHOWN_INPUT_BYTES) !== null
        ? value
        : { type: Array.isArray(value) ? `array(${value.length})` : typeof value };
  });
  return out;
}

/** The next index of a task's runs in the current flow run ("extract_data-0", "-1", …). */
export function nextDynamicKey(parent: RunContext | undefined, taskKey: string): number {
  const counters = parent?.taskCounters;
  const dynamicKey = counters?.get(taskKey) ?? 0;
  counters?.set(taskKey, dynamicKey + 1);
  return dynamicKey;
}
