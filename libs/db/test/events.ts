/** Builders of run events for the tests: realistic defaults, overridable fields. */
import { randomUUID } from "node:crypto";
import {
  type CacheEntryEvent,
  type FlowRunCreatedEvent,
  type LogEvent,
  type LogLevel,
  type RunKind,
  type StateEvent,
  type StateName,
  stateTypeOf,
  type TaskRunCreatedEvent,
} from "@sluice/core";

export const T0 = Date.parse("2030-01-01T00:00:00.000Z");
/** ISO timestamp `seconds` after T0. */
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export function flowRunCreated(
  overrides: Partial<FlowRunCreatedEvent["flowRun"]> & { timestamp?: string } = {},
): FlowRunCreatedEvent {
  const { timestamp = at(0), ...flowRun } = overrides;
  return {
    kind: "flow_run_created",
    id: randomUUID(),
    timestamp,
    flowRun: {
      id: randomUUID(),
      name: "brave-otter",
      flowId: randomUUID(),
      flowName: "ETL Pipeline",
      deploymentId: null,
      parentTaskRunId: null,
      parameters: { apiUrl: "https://example.test/users", limit: 10 },
      tags: ["etl", "daily"],
      expectedStartTime: timestamp,
      workPoolName: "default-agent-pool",
      workQueueName: "default",
      ...flowRun,
    },
  };
}

export function taskRunCreated(
  flowRunId: string | null,
  overrides: Partial<TaskRunCreatedEvent["taskRun"]> & { timestamp?: string } = {},
): TaskRunCreatedEvent {
  const { timestamp = at(0), ...taskRun } = overrides;
  return {
    kind: "task_run_created",
    id: randomUUID(),
    timestamp,
    taskRun: {
      id: randomUUID(),
      name: "extract_data-0",
      flowRunId,
      taskKey: "extract_data",
      dynamicKey: "0",
      cacheKey: null,
      cacheExpiration: null,
      tags: [],
      taskInputs: { apiUrl: [] },
      expectedStartTime: timestamp,
      ...taskRun,
    },
  };
}

export function state(
  runKind: RunKind,
  runId: string,
  name: StateName,
  seconds: number,
  overrides: Partial<StateEvent> = {},
): StateEvent {
  return {
    kind: "state",
    id: randomUUID(),
    runKind,
    runId,
    timestamp: at(seconds),
    type: stateTypeOf(name),
    name,
    message: null,
    runCount: name === "Running" || name === "Retrying" ? 1 : 0,
    ...overrides,
  };
}

export function log(
  flowRunId: string | null,
  taskRunId: string | null,
  message: string,
  seconds: number,
  level: LogLevel = "INFO",
): LogEvent {
  return {
    kind: "log",
    id: randomUUID(),
    timestamp: at(seconds),
    flowRunId,
    taskRunId,
    name: taskRunId ? "sluice.task_runs" : "sluice.flow_runs",
    level,
    message,
  };
}

export function cacheEntry(
  cacheKey: string,
  result: unknown,
  seconds: number,
  expiresAt: string | null = null,
): CacheEntryEvent {
  return {
    kind: "cache_entry",
    id: randomUUID(),
    timestamp: at(seconds),
    cacheKey,
    taskRunId: randomUUID(),
    expiresAt,
    result,
  };
}

/** A flow run with a task run, both going Pending → Running → Completed, with logs. */
export function completedFlowRun() {
  const created = flowRunCreated();
  const flowRunId = created.flowRun.id;
  const task = taskRunCreated(flowRunId, { timestamp: at(2) });
  const taskRunId = task.taskRun.id;
  const events = [
    created,
    state("flow_run", flowRunId, "Pending", 0),
    state("flow_run", flowRunId, "Running", 1, { runCount: 1 }),
    task,
    state("task_run", taskRunId, "Pending", 2),
    state("task_run", taskRunId, "Running", 3, { runCount: 1 }),
    log(flowRunId, taskRunId, "Extracting data from https://example.test/users", 3.5),
    state("task_run", taskRunId, "Completed", 5, { runCount: 1, data: [{ id: 1 }, { id: 2 }] }),
    log(flowRunId, null, "Loaded 2 rows", 5.5, "WARNING"),
    state("flow_run", flowRunId, "Completed", 6, { runCount: 1, data: { rows: 2 } }),
  ];
  return { events, flowRunId, taskRunId, flowName: created.flowRun.flowName };
}
