/**
 * The batch writer: records a batch of run events in one transaction with a handful of multi-row
 * statements, whatever the batch size. Idempotent (every row is keyed by an id the event carries),
 * order-insensitive (states apply by timestamp, through `shouldApplyState`'s rule) and never fails
 * because a referenced row is missing.
 *
 * Order within a batch: flows, then flow and task run rows, then state history, then current
 * states, then logs and cache entries. A state whose run row is not there yet is kept in the
 * history and applied when the row arrives (in this batch or a later one). Batches are recorded one
 * at a time, whoever records them (see LOCK_RECORDING): a row and its states split over two
 * batches recorded at once would each miss the other.
 */
import {
  type CacheEntryEvent,
  type FlowRunCreatedEvent,
  LOG_LEVEL_NUMBERS,
  type LogEvent,
  type RunEvent,
  type StateEvent,
  type TaskRunCreatedEvent,
} from "@sluice/core";
import { toCopyText } from "./copy-text.js";
import { deletedFlowRunsAmong } from "./deleted-flow-runs.js";
import { pgErrorCode } from "./errors.js";
import { type FreshRunState, freshRunState, NO_STATE } from "./fresh-run-state.js";
import { orDefault, textArrayLiteral, toJsonParam } from "./json-param.js";
import { type DbHandle, type SqlExecutor, takesCopy, withTransaction } from "./queryable.js";
import {
  applyStatesSql,
  COPY_LOGS,
  copyStatesSql,
  FLOW_RUN_TABLES,
  failingOnExistingIds,
  INSERT_FLOW_RUNS,
  INSERT_FLOWS,
  INSERT_FRESH_TASK_RUNS,
  INSERT_LOGS,
  INSERT_TASK_RUNS,
  insertStatesSql,
  LOCK_RECORDING,
  lockRunsSql,
  type RunTables,
  SET_FLOW_RUN_TRACE_IDS,
  TASK_RUN_TABLES,
  UPSERT_TASK_CACHE,
} from "./record-events-sql.js";

/** Events of one batch, by what they write. */
interface Partitioned {
  flowRuns: FlowRunCreatedEvent[];
  taskRuns: TaskRunCreatedEvent[];
  flowRunStates: StateEvent[];
  taskRunStates: StateEvent[];
  logs: LogEvent[];
  cacheEntries: CacheEntryEvent[];
}

/**
 * A batch worked out for its transaction: its events by kind, and the statement parameters that
 * do not depend on what is in Postgres already, built (serialized) ahead of the transaction (the
 * few flow-run states, and the jsonb of rows that usually go in by COPY, are built when needed). A
 * recorder prepares its next batch while Postgres writes the current one.
 */
export interface PreparedEvents {
  readonly size: number;
  /** Whether its bulk rows have their COPY text (see PrepareOptions). */
  readonly copy: boolean;
  readonly batch: Partitioned;
  /** The flow runs the batch is about, checked against the tombstones of deleted runs. */
  readonly flowRunIds: ReadonlySet<string>;
  readonly flows: string | null;
  readonly flowRuns: string | null;
  readonly traceIds: string | null;
  /** Task runs whose whole history is in the batch, with their current state. */
  readonly freshTaskRuns: string | null;
  readonly flowRunStates: PreparedStates;
  readonly taskRunStates: PreparedStates;
  readonly logs: PreparedRows | null;
  readonly cacheEntries: string | null;
}

/**
 * Rows of a batch's bulk (task-run states, log lines): new ones go in by COPY, whose text is built
 * ahead; a replay (or the embedded database) inserts them from a jsonb parameter built then.
 */
interface PreparedRows {
  rows: unknown[][];
  /** Undefined for rows that never go in by COPY (flow-run states), or for a database that takes none. */
  copy?: Buffer;
}

export interface PrepareOptions {
  /**
   * Build the COPY text of the bulk rows (default true). False for a database that takes no COPY
   * (the embedded one, see `takesCopy`): the text would be built for nothing (about 6 µs of the
   * 100 that recording a task run into PGlite takes).
   */
  copy?: boolean;
}

interface PreparedStates {
  /** The history rows to insert. */
  rows: PreparedRows | null;
  /** The runs whose current state is derived again afterwards, in id order (see `lockRunsSql`). */
  runIds: string[];
}

/** The jsonb column of a state row (`stateRow`). */
const STATE_DATA_COLUMN = 6;

/** Works the batch out (see PreparedEvents): no database needed. */
export function prepareEvents(events: readonly RunEvent[], { copy = true }: PrepareOptions = {}): PreparedEvents {
  return prepareBatch(partition(events), events.length, copy);
}

function prepareBatch(batch: Partitioned, size: number, copy: boolean): PreparedEvents {
  const traced = batch.flowRuns.filter((e) => e.flowRun.traceId);
  return {
    size,
    copy,
    batch,
    flowRunIds: flowRunIdsOf(batch),
    flows: batch.flowRuns.length > 0 ? toJsonParam(batch.flowRuns.map(flowRow)) : null,
    flowRuns: batch.flowRuns.length > 0 ? toJsonParam(batch.flowRuns.map(flowRunRow)) : null,
    traceIds: traced.length > 0 ? toJsonParam(traced.map(traceRow)) : null,
    freshTaskRuns: freshTaskRunsParam(batch),
    flowRunStates: prepareStates(
      batch.flowRunStates,
      batch.flowRuns.map((e) => e.flowRun.id),
      false,
    ),
    taskRunStates: prepareStates(
      batch.taskRunStates,
      batch.taskRuns.map((e) => e.taskRun.id),
      copy,
    ),
    logs: batch.logs.length > 0 ? copyableRows(batch.logs.map(logRow), copy) : null,
    cacheEntries: batch.cacheEntries.length > 0 ? toJsonParam(batch.cacheEntries.map(cacheRow)) : null,
  };
}

function prepareStates(states: StateEvent[], createdRunIds: string[], copied: boolean): PreparedStates {
  const rows = states.map(stateRow);
  return {
    rows: rows.length === 0 ? null : copyableRows(rows, copied, STATE_DATA_COLUMN),
    runIds: [...new Set([...states.map((s) => s.runId), ...createdRunIds])].sort(),
  };
}

const copyableRows = (rows: unknown[][], copy: boolean, jsonColumn?: number): PreparedRows =>
  copy
    ? {
        rows,
        // Encoded now: the text, built a field at a time, is then garbage at once, not held (as a tree
        // of small strings that outlives a young-generation collection) until the transaction sends it.
        copy: Buffer.from(toCopyText(rows, jsonColumn)),
      }
    : { rows };

export interface RecordOptions {
  /**
   * Called once the transaction has sent its first statement that writes rows, while Postgres
   * works on it: a recorder prepares its next batch then, so its own work overlaps Postgres's.
   */
  whileWriting?: () => void;
}

/**
 * How the batch's task runs, task-run states and log lines go in (the bulk of a batch):
 * "new" when they are expected to be, failing on a row whose id exists (see SKIP_EXISTING_IDS);
 * "replayed" skipping such rows. Flow runs and their states always skip them: a flow run created
 * through the API is created again by the worker that runs it.
 */
type Inserts = "new" | "replayed";

const UNIQUE_VIOLATION = "23505";

/**
 * Writes a batch of events in one transaction. Replaying a batch (or any part of it, in any
 * order) leaves the same rows. Events of an unknown kind are skipped.
 */
export async function recordEvents(
  handle: DbHandle,
  events: readonly RunEvent[] | PreparedEvents,
  options: RecordOptions = {},
): Promise<void> {
  const prepared = "batch" in events ? events : prepareEvents(events, { copy: takesCopy(handle) });
  if (prepared.size === 0) return;
  let whileWriting = options.whileWriting;
  const writing = () => {
    whileWriting?.();
    whileWriting = undefined;
  };
  try {
    await writeBatch(handle, prepared, "new", writing);
  } catch (error) {
    // A row of the batch is there already (its events were recorded before): rolled back, and
    // written again skipping such rows.
    if (pgErrorCode(error) !== UNIQUE_VIOLATION) throw error;
    await writeBatch(handle, prepared, "replayed", writing);
  }
}

async function writeBatch(handle: DbHandle, prepared: PreparedEvents, inserts: Inserts, writing: () => void) {
  await withTransaction(handle, async (locking) => {
    await locking.query({ name: "sluice_lock_recording", text: LOCK_RECORDING });
    const deleted = await deletedFlowRunsAmong(locking, prepared.flowRunIds);
    const client: SqlExecutor = {
      query: <Row>(statement: Parameters<SqlExecutor["query"]>[0]) => {
        const result = locking.query<Row>(statement);
        writing();
        return result;
      },
    };
    const { copyFrom } = locking;
    if (copyFrom) {
      client.copyFrom = (statement, text) => {
        const result = copyFrom(statement, text);
        writing();
        return result;
      };
    }
    // Rarely any: only then is the batch worked out again without them.
    const batch =
      deleted.size === 0
        ? prepared
        : prepareBatch(withoutDeletedRuns(prepared.batch, deleted), prepared.size, prepared.copy);
    if (batch.flows !== null) await run(client, "sluice_insert_flows", INSERT_FLOWS, batch.flows);
    if (batch.flowRuns !== null) await run(client, "sluice_insert_flow_runs", INSERT_FLOW_RUNS, batch.flowRuns);
    if (batch.traceIds !== null)
      await run(client, "sluice_set_flow_run_trace_ids", SET_FLOW_RUN_TRACE_IDS, batch.traceIds);
    const settled = await insertTaskRuns(client, batch, inserts);
    await recordStates(client, FLOW_RUN_TABLES, batch.flowRunStates, "replayed");
    await recordStates(client, TASK_RUN_TABLES, batch.taskRunStates, inserts, settled);
    if (batch.logs !== null)
      await insertRows(client, "sluice_insert_logs", INSERT_LOGS, COPY_LOGS, inserts, batch.logs);
    if (batch.cacheEntries !== null) {
      await run(client, "sluice_upsert_task_cache", UPSERT_TASK_CACHE, batch.cacheEntries);
    }
  });
}

/** The rows of the task runs whose whole history is in the batch, with their current state (see fresh-run-state.ts). */
function freshTaskRunsParam(batch: Partitioned): string | null {
  if (batch.taskRuns.length === 0) return null;
  const statesByRun = new Map<string, StateEvent[]>();
  for (const state of batch.taskRunStates) {
    const states = statesByRun.get(state.runId);
    if (states) states.push(state);
    else statesByRun.set(state.runId, [state]);
  }
  const fresh: unknown[][] = [];
  for (const event of batch.taskRuns) {
    const current = freshRunState(statesByRun.get(event.taskRun.id) ?? []);
    if (current) fresh.push(taskRunRow(event, current));
  }
  return fresh.length > 0 ? toJsonParam(fresh) : null;
}

/**
 * Inserts the batch's task run rows. Those whose whole history is in the batch go in with their
 * current state; the others plainly, their state applied by `recordStates`. Returns the ids of
 * the runs inserted with their state, which need nothing more.
 */
async function insertTaskRuns(client: SqlExecutor, prepared: PreparedEvents, inserts: Inserts): Promise<Set<string>> {
  const settled = new Set<string>();
  const { taskRuns } = prepared.batch;
  if (taskRuns.length === 0) return settled;
  if (prepared.freshTaskRuns !== null) {
    const rows = await client.query<{ id: string }>(
      insertStatement("sluice_insert_fresh_task_runs", INSERT_FRESH_TASK_RUNS, inserts, prepared.freshTaskRuns),
    );
    for (const { id } of rows) settled.add(id);
  }
  const rest = taskRuns.filter((e) => !settled.has(e.taskRun.id));
  if (rest.length > 0) {
    const rows = toJsonParam(rest.map((event) => taskRunRow(event)));
    await insert(client, "sluice_insert_task_runs", INSERT_TASK_RUNS, inserts, rows);
  }
  return settled;
}

/**
 * Inserts the state history, then re-derives the current state of every run the batch touched
 * (but the `settled` ones, inserted with their current state already).
 */
async function recordStates(
  client: SqlExecutor,
  tables: RunTables,
  prepared: PreparedStates,
  inserts: Inserts,
  settled?: ReadonlySet<string>,
): Promise<void> {
  if (prepared.rows !== null) {
    const name = `sluice_insert_${tables.kind}_states`;
    await insertRows(client, name, insertStatesSql(tables), copyStatesSql(tables), inserts, prepared.rows);
  }
  const runIds = settled && settled.size > 0 ? prepared.runIds.filter((id) => !settled.has(id)) : prepared.runIds;
  if (runIds.length === 0) return;
  await run(client, `sluice_lock_${tables.kind}s`, lockRunsSql(tables), runIds);
  await run(client, `sluice_apply_${tables.kind}_states`, applyStatesSql(tables), runIds);
}

async function run(client: SqlExecutor, name: string, text: string, param: unknown): Promise<void> {
  await client.query({ name, text, values: [param] });
}

/** New rows by COPY where the connection can (`copyStatement`), else as `insert` does. */
async function insertRows(
  client: SqlExecutor,
  name: string,
  text: string,
  copyStatement: string,
  inserts: Inserts,
  { rows, copy }: PreparedRows,
): Promise<void> {
  if (inserts === "new" && copy !== undefined && client.copyFrom) return client.copyFrom(copyStatement, copy);
  await insert(client, name, text, inserts, toJsonParam(rows));
}

/** An insert that skips existing ids, as `inserts` says (see SKIP_EXISTING_IDS). */
async function insert(client: SqlExecutor, name: string, text: string, inserts: Inserts, param: unknown) {
  await client.query(insertStatement(name, text, inserts, param));
}

function insertStatement(name: string, text: string, inserts: Inserts, param: unknown) {
  // Each text is prepared once per connection under its own name.
  return inserts === "new"
    ? { name: `${name}_new`, text: failingOnExistingIds(text), values: [param] }
    : { name, text, values: [param] };
}

/** The flow runs the batch's runs and states are about (their own, or their task runs' flow run). */
function flowRunIdsOf(batch: Partitioned): Set<string> {
  const ids = new Set(batch.flowRuns.map((event) => event.flowRun.id));
  for (const event of batch.flowRunStates) ids.add(event.runId);
  for (const event of batch.taskRuns) if (event.taskRun.flowRunId) ids.add(event.taskRun.flowRunId);
  return ids;
}

/**
 * Drops what would bring back flow runs deleted through the API (see deleted-flow-runs.ts): their
 * creation and states, and their task runs with those task runs' states. Log lines stay, as they
 * do when a run is deleted.
 */
function withoutDeletedRuns(batch: Partitioned, deleted: ReadonlySet<string>): Partitioned {
  if (deleted.size === 0) return batch;
  const droppedTaskRuns = new Set<string>();
  const taskRuns = batch.taskRuns.filter((event) => {
    const keep = !deleted.has(event.taskRun.flowRunId ?? "");
    if (!keep) droppedTaskRuns.add(event.taskRun.id);
    return keep;
  });
  return {
    ...batch,
    flowRuns: batch.flowRuns.filter((event) => !deleted.has(event.flowRun.id)),
    flowRunStates: batch.flowRunStates.filter((event) => !deleted.has(event.runId)),
    taskRuns,
    taskRunStates: batch.taskRunStates.filter((event) => !droppedTaskRuns.has(event.runId)),
  };
}

function partition(events: readonly RunEvent[]): Partitioned {
  const batch: Partitioned = {
    flowRuns: [],
    taskRuns: [],
    flowRunStates: [],
    taskRunStates: [],
    logs: [],
    cacheEntries: [],
  };
  for (const event of events) {
    switch (event.kind) {
      case "flow_run_created":
        batch.flowRuns.push(event);
        break;
      case "task_run_created":
        batch.taskRuns.push(event);
        break;
      case "state":
        (event.runKind === "flow_run" ? batch.flowRunStates : batch.taskRunStates).push(event);
        break;
      case "log":
        batch.logs.push(event);
        break;
      case "cache_entry":
        batch.cacheEntries.push(event);
        break;
      case "state_written":
        // Already in Postgres: the writer put it on the stream for live views only.
        break;
      default:
        // An event kind from a newer producer: nothing here knows where it belongs.
        break;
    }
  }
  return batch;
}

function flowRow(event: FlowRunCreatedEvent) {
  return { id: event.flowRun.flowId, name: event.flowRun.flowName, created: event.timestamp };
}

function flowRunRow({ flowRun, timestamp }: FlowRunCreatedEvent) {
  return {
    id: flowRun.id,
    name: flowRun.name,
    flow_name: flowRun.flowName,
    deployment_id: flowRun.deploymentId,
    parent_task_run_id: flowRun.parentTaskRunId,
    parameters: flowRun.parameters,
    tags: flowRun.tags,
    expected_start_time: flowRun.expectedStartTime,
    work_pool_name: flowRun.workPoolName,
    work_queue_name: flowRun.workQueueName,
    created: timestamp,
  };
}

function traceRow({ flowRun, timestamp }: FlowRunCreatedEvent) {
  return { id: flowRun.id, trace_id: flowRun.traceId, created: timestamp };
}

/*
 * The rows every task run makes travel as arrays of their fields (see record-events-sql.ts); the
 * statements read them by position, in these orders. An undefined field becomes null.
 */

/**
 * The row of a task run, with its current state when it is known here (one shape for every row:
 * one JSON pass): id, name, flow_run_id, task_key, dynamic_key, cache_key, cache_expiration, tags
 * (as a Postgres array literal), task_inputs, expected_start_time, created, then state_id,
 * state_type, state_name, state_timestamp, state_message, run_count, start_time, end_time,
 * total_run_time, next_scheduled_start_time, result.
 */
function taskRunRow({ taskRun, timestamp }: TaskRunCreatedEvent, state: FreshRunState = NO_STATE): unknown[] {
  return [
    taskRun.id,
    taskRun.name,
    taskRun.flowRunId,
    taskRun.taskKey,
    taskRun.dynamicKey,
    taskRun.cacheKey,
    taskRun.cacheExpiration,
    textArrayLiteral(taskRun.tags),
    taskRun.taskInputs,
    taskRun.expectedStartTime,
    timestamp,
    state.state_id,
    state.state_type,
    state.state_name,
    state.state_timestamp,
    state.state_message,
    state.run_count,
    state.start_time,
    state.end_time,
    state.total_run_time,
    state.next_scheduled_start_time,
    state.result,
  ];
}

/** id, run_id, type, name, timestamp, message, data, run_count, scheduled_time, force. */
function stateRow(event: StateEvent): unknown[] {
  return [
    event.id,
    event.runId,
    event.type,
    event.name,
    event.timestamp,
    event.message,
    event.data,
    // As the columns default them: COPY sets what it is given, null included.
    orDefault(event.runCount, 0),
    event.scheduledTime,
    orDefault(event.force, false),
  ];
}

/** id, flow_run_id, task_run_id, name, level, message, timestamp. */
function logRow(event: LogEvent): unknown[] {
  return [
    event.id,
    event.flowRunId,
    event.taskRunId,
    event.name,
    LOG_LEVEL_NUMBERS[event.level] ?? (typeof event.level === "number" ? event.level : LOG_LEVEL_NUMBERS.INFO),
    event.message,
    event.timestamp,
  ];
}

function cacheRow(event: CacheEntryEvent) {
  return {
    cache_key: event.cacheKey,
    task_run_id: event.taskRunId,
    result: event.result,
    expires_at: event.expiresAt,
    created: event.timestamp,
  };
}
