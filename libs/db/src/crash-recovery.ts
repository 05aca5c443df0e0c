/**
 * Crash recovery for a store only one process uses at a time (the embedded one): once the store is
 * ours, every run still in progress was left so by a process that died, and becomes Crashed. The
 * Crashed state goes through `recordEvents` like any other, so the run's history shows it.
 */
import type { LogEvent, RunEvent, RunKind, StateEvent } from "@sluice/core";
import { newRowId } from "@sluice/core";
import { type DbHandle, withTransaction } from "./queryable.js";
import { recordEvents } from "./record-events.js";

export interface AbandonedRuns {
  flowRunIds: string[];
  taskRunIds: string[];
}

/**
 * Runs a process was working on: pending, running, cancelling or paused ones, and those waiting
 * in-process for a retry or a concurrency slot. Scheduled runs wait for a scheduler, not a process.
 */
const IN_PROGRESS = `state_type IS NULL OR state_type IN ('PENDING', 'RUNNING', 'CANCELLING', 'PAUSED')
  OR (state_type = 'SCHEDULED' AND state_name IN ('AwaitingRetry', 'AwaitingConcurrencySlot'))`;

interface InProgressRow {
  id: string;
  run_count: number;
  state_timestamp: Date | string | null;
}

/** Moves every run in progress to Crashed (a forced state, with `message`); returns which runs. */
export async function crashAbandonedRuns(
  handle: DbHandle,
  options: { message: string; now?: Date },
): Promise<AbandonedRuns> {
  const [flowRuns, taskRuns] = await withTransaction(handle, async (sql) => [
    await sql.query<InProgressRow>({
      text: `SELECT id, run_count, state_timestamp FROM flow_runs WHERE ${IN_PROGRESS}`,
    }),
    await sql.query<InProgressRow>({
      text: `SELECT id, run_count, state_timestamp FROM task_runs WHERE ${IN_PROGRESS}`,
    }),
  ]);
  if (flowRuns.length === 0 && taskRuns.length === 0) return { flowRunIds: [], taskRunIds: [] };
  const now = (options.now ?? new Date()).getTime();
  const events: RunEvent[] = [];
  for (const [runKind, rows] of [
    ["flow_run", flowRuns],
    ["task_run", taskRuns],
  ] as const) {
    for (const row of rows) {
      const state = crashedState(runKind, row, now, options.message);
      events.push(state);
      if (runKind === "flow_run") events.push(crashLog(row.id, state.timestamp, options.message));
    }
  }
  await recordEvents(handle, events);
  return { flowRunIds: flowRuns.map((row) => row.id), taskRunIds: taskRuns.map((row) => row.id) };
}

function crashedState(runKind: RunKind, row: InProgressRow, now: number, message: string): StateEvent {
  // Strictly after the run's current state, even if that one is stamped in our future.
  const current = row.state_timestamp === null ? 0 : new Date(row.state_timestamp).getTime() + 1;
  return {
    kind: "state",
    id: newRowId(),
    runKind,
    runId: row.id,
    timestamp: new Date(Math.max(now, current)).toISOString(),
    type: "CRASHED",
    name: "Crashed",
    message,
    runCount: row.run_count,
    data: { type: "Crashed", message },
    force: true,
  };
}

function crashLog(flowRunId: string, timestamp: string, message: string): LogEvent {
  return {
    kind: "log",
    id: newRowId(),
    timestamp,
    flowRunId,
    taskRunId: null,
    name: "sluice.recovery",
    level: "ERROR",
    message,
  };
}
