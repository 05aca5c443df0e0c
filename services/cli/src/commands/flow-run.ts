/** `sluice flow-run ls|inspect|logs`: the record of runs, from whichever store the mode points at. */
import { LOG_LEVEL_NUMBERS, type LogLevel } from "@sluice/core";
import {
  type FlowRunState,
  type FlowRunSummary,
  findFlowRun,
  getFlowRunStates,
  type Log,
  listFlowRunSummaries,
  listLogs,
  listSubflowRuns,
  listTaskRunStates,
  listTaskRuns,
  type TaskRun,
  type TaskRunState,
} from "@sluice/db";
import type { CliConfig } from "../config.js";
import { chooseMode } from "../modes/choose.js";
import { consoleStoreNotices } from "../modes/embedded.js";
import { openRunStore, type RunStore } from "../modes/run-store.js";
import { printJson, renderTable } from "../render-table.js";

export interface StoreCommandOptions {
  embedded?: boolean;
  json?: boolean;
}

async function withRunStore<T>(
  config: CliConfig,
  options: StoreCommandOptions,
  use: (store: RunStore) => Promise<T>,
): Promise<T> {
  const mode = await chooseMode(config, { embedded: options.embedded });
  const store = await openRunStore(mode, config, consoleStoreNotices(config.home));
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

function notFound(id: string): number {
  process.stderr.write(`Flow run '${id}' not found\n`);
  return 1;
}

export async function flowRunLsCommand(
  options: StoreCommandOptions & { limit?: string },
  config: CliConfig,
): Promise<number> {
  const limit = Number.parseInt(options.limit ?? "20", 10);
  if (!Number.isInteger(limit) || limit <= 0) {
    process.stderr.write(`--limit must be a positive whole number, not '${options.limit}'\n`);
    return 2;
  }
  const runs = await withRunStore(config, options, (store) => listFlowRunSummaries(store.db, { limit }));
  if (options.json) {
    printJson(runs.map(flowRunJson));
    return 0;
  }
  if (runs.length === 0) {
    process.stdout.write("No flow runs yet: start one with `npx sluice run FILE`.\n");
    return 0;
  }
  const now = new Date();
  process.stdout.write(
    `${renderTable(
      ["ID", "Flow", "Name", "State", "Start time (UTC)", "Duration"],
      runs.map((run) => [
        run.id,
        run.flowName,
        run.name,
        run.stateName ?? "",
        formatTime(run.startTime ?? run.expectedStartTime, 0),
        formatDuration(runSeconds(run, now)),
      ]),
    )}\n`,
  );
  return 0;
}

export async function flowRunInspectCommand(
  id: string,
  options: StoreCommandOptions,
  config: CliConfig,
): Promise<number> {
  const details = await withRunStore(config, options, async (store) => {
    const run = await findFlowRun(store.db, id);
    if (!run) return null;
    const [states, taskRuns] = await Promise.all([
      getFlowRunStates(store.db, run.id),
      listTaskRuns(store.db, { flowRunId: run.id }),
    ]);
    const ids = taskRuns.map((taskRun) => taskRun.id);
    const [taskStates, subflows] = await Promise.all([
      listTaskRunStates(store.db, ids),
      listSubflowRuns(store.db, ids),
    ]);
    return { run, states, taskRuns, taskStates, subflows };
  });
  if (!details) return notFound(id);
  const { run, states, taskRuns, taskStates, subflows } = details;
  const statesOf = new Map<string, TaskRunState[]>();
  for (const state of taskStates) statesOf.set(state.taskRunId, [...(statesOf.get(state.taskRunId) ?? []), state]);

  if (options.json) {
    printJson({
      ...flowRunJson(run),
      states: states.map(stateJson),
      task_runs: taskRuns.map((taskRun) => ({
        ...taskRunJson(taskRun),
        states: (statesOf.get(taskRun.id) ?? []).map(stateJson),
      })),
      subflow_runs: subflows.map(flowRunJson),
    });
    return 0;
  }
  const now = new Date();
  const out: string[] = [
    `Flow run    ${run.name} (${run.id})`,
    `Flow        ${run.flowName}`,
    `State       ${run.stateName ?? "-"}${run.stateMessage ? ` - ${run.stateMessage}` : ""}`,
    `Started     ${formatTime(run.startTime)}`,
    `Ended       ${formatTime(run.endTime)}`,
    `Duration    ${formatDuration(runSeconds(run, now))}   Run count ${run.runCount}`,
    ...(run.traceId ? [`Trace ID    ${run.traceId}`] : []),
    "",
    "Parameters",
    indent(JSON.stringify(run.parameters, null, 2)),
  ];
  if (run.stateType === "COMPLETED") out.push("", "Result", indent(JSON.stringify(run.result, null, 2) ?? "null"));
  out.push("", "States", indent(renderTable(["Time (UTC)", "State", "Message"], states.map(stateRow))));
  if (taskRuns.length > 0) {
    out.push(
      "",
      "Task runs",
      indent(
        renderTable(
          ["ID", "Name", "State", "Duration", "States"],
          taskRuns.map((taskRun) => [
            taskRun.id,
            taskRun.name,
            taskRun.stateName ?? "",
            formatDuration(runSeconds(taskRun, now)),
            (statesOf.get(taskRun.id) ?? [])
              .map((state) => `${state.name} ${formatTime(state.timestamp, 3, true)}`)
              .join(" → "),
          ]),
        ),
      ),
    );
  }
  if (subflows.length > 0) {
    out.push(
      "",
      "Subflow runs",
      indent(
        renderTable(
          ["ID", "Flow", "Name", "State", "Duration"],
          subflows.map((sub) => [
            sub.id,
            sub.flowName,
            sub.name,
            sub.stateName ?? "",
            formatDuration(runSeconds(sub, now)),
          ]),
        ),
      ),
    );
  }
  process.stdout.write(`${out.join("\n")}\n`);
  return 0;
}

export async function flowRunLogsCommand(id: string, options: StoreCommandOptions, config: CliConfig): Promise<number> {
  const found = await withRunStore(config, options, async (store) => {
    const run = await findFlowRun(store.db, id);
    if (!run) return null;
    const [logs, taskRuns] = await Promise.all([
      listLogs(store.db, { flowRunId: run.id }),
      listTaskRuns(store.db, { flowRunId: run.id }),
    ]);
    return { run, logs, taskRunNames: new Map(taskRuns.map((taskRun) => [taskRun.id, taskRun.name])) };
  });
  if (!found) return notFound(id);
  const { run, logs, taskRunNames } = found;
  if (options.json) {
    printJson(
      logs.map((log) => ({
        id: log.id,
        timestamp: log.timestamp.toISOString(),
        level: levelName(log.level),
        level_number: log.level,
        name: log.name,
        message: log.message,
        flow_run_id: log.flowRunId,
        task_run_id: log.taskRunId,
        task_run_name: log.taskRunId ? (taskRunNames.get(log.taskRunId) ?? null) : null,
      })),
    );
    return 0;
  }
  const source = (log: Log) =>
    log.taskRunId ? `Task run '${taskRunNames.get(log.taskRunId) ?? log.taskRunId}'` : `Flow run '${run.name}'`;
  for (const log of logs) {
    process.stdout.write(
      `${formatTime(log.timestamp, 3)} | ${levelName(log.level).padEnd(8)}| ${source(log)} - ${log.message}\n`,
    );
  }
  return 0;
}

// --- shapes and formats ------------------------------------------------------------------------

/** Prefect's field names, as the REST API has them. */
function flowRunJson(run: FlowRunSummary) {
  return {
    id: run.id,
    name: run.name,
    flow_id: run.flowId,
    flow_name: run.flowName,
    deployment_id: run.deploymentId,
    parent_task_run_id: run.parentTaskRunId,
    state_type: run.stateType,
    state_name: run.stateName,
    state: run.stateType
      ? { type: run.stateType, name: run.stateName, timestamp: iso(run.stateTimestamp), message: run.stateMessage }
      : null,
    parameters: run.parameters,
    tags: run.tags,
    expected_start_time: iso(run.expectedStartTime),
    start_time: iso(run.startTime),
    end_time: iso(run.endTime),
    total_run_time: run.totalRunTime,
    run_count: run.runCount,
    work_pool_name: run.workPoolName,
    work_queue_name: run.workQueueName,
    trace_id: run.traceId ?? null,
    result: run.result ?? null,
  };
}

function taskRunJson(run: TaskRun) {
  return {
    id: run.id,
    name: run.name,
    flow_run_id: run.flowRunId,
    task_key: run.taskKey,
    dynamic_key: run.dynamicKey,
    cache_key: run.cacheKey,
    state_type: run.stateType,
    state_name: run.stateName,
    start_time: iso(run.startTime),
    end_time: iso(run.endTime),
    total_run_time: run.totalRunTime,
    run_count: run.runCount,
    tags: run.tags,
  };
}

function stateJson(state: FlowRunState | TaskRunState) {
  return { id: state.id, type: state.type, name: state.name, timestamp: iso(state.timestamp), message: state.message };
}

function stateRow(state: FlowRunState): string[] {
  return [formatTime(state.timestamp, 3), state.name, state.message ?? ""];
}

const LEVEL_NAMES = new Map(Object.entries(LOG_LEVEL_NUMBERS).map(([name, number]) => [number, name as LogLevel]));

function levelName(level: number): string {
  return LEVEL_NAMES.get(level) ?? `LEVEL ${level}`;
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** "2030-01-01 12:00:00" (UTC), with `fractionDigits` of the seconds; time only with `timeOnly`. */
function formatTime(date: Date | null, fractionDigits = 0, timeOnly = false): string {
  if (!date) return "-";
  const text = date.toISOString().replace("T", " ");
  const end = fractionDigits > 0 ? 20 + fractionDigits : 19;
  return text.slice(timeOnly ? 11 : 0, end);
}

/** Seconds spent running: the recorded total, or so far for a run still going. */
function runSeconds(
  run: { totalRunTime: number; startTime: Date | null; endTime: Date | null; stateType: string | null },
  now: Date,
): number | null {
  if (!run.startTime) return null;
  if (run.stateType === "RUNNING") return run.totalRunTime + (now.getTime() - run.startTime.getTime()) / 1000;
  return run.totalRunTime;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return "-";
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}
