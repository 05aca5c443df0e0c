/**
 * Writing flow runs outside the event stream: creating them (the API, the scheduler), setting
 * their state on request (the API's set_state) and deleting them.
 *
 * Creation is idempotent: a run with the same id, the same (deployment, idempotency key), or the
 * same (deployment, expected start time) among auto-scheduled runs is created once and then
 * returned as it is, whoever races. Callers enqueue the run after this commits.
 *
 * State changes go through the same history table and the same rule as the recorder's (the run's
 * current state is derived from its history by `applyStatesSql`), so a state set here and states
 * recorded from a worker's events compose.
 */
import {
  defaultStateName,
  generateRunName,
  isTerminal,
  newRowId,
  type StateName,
  type StateType,
  shouldApplyState,
} from "@sluice/core";
import type { SQL } from "drizzle-orm";
import type { AnySluiceDb } from "./client.js";
import { rememberDeletedFlowRuns, waitForRecording } from "./deleted-flow-runs.js";
import { and, eq, getTableColumns, inArray, sql } from "./drizzle.js";
import { pgErrorCode } from "./errors.js";
import { deleteRunChildren } from "./flows.js";
import { textArrayLiteral, toJsonParam, uuidArrayLiteral } from "./json-param.js";
import { queryOnce } from "./queryable.js";
import { applyStatesSql, FLOW_RUN_TABLES, lockRunsSql } from "./record-events-sql.js";
import { type Deployment, type FlowRun, flowRunStates, flowRuns } from "./schema.js";
import { DEFAULT_WORK_POOL_NAME, DEFAULT_WORK_QUEUE_NAME } from "./work-pools.js";

export interface InitialState {
  type: StateType;
  /** Default: the type's usual name ("Scheduled", "Pending", …). */
  name?: StateName;
  message?: string | null;
  /** For SCHEDULED: when the run is due (default: the run's expected start time). */
  scheduledTime?: Date | null;
}

export interface NewFlowRun {
  /** Default: a new uuid. */
  id?: string;
  flowId: string;
  /** Created only while the deployment's row is at this version (see createDeploymentFlowRun's `unchangedSince`). */
  deploymentRowVersion?: string;
  /** Default: a generated adjective-animal name. */
  name?: string;
  deploymentId?: string | null;
  parentTaskRunId?: string | null;
  parameters?: Record<string, unknown>;
  tags?: string[];
  /** Default: the initial state's scheduled time, or now. */
  expectedStartTime?: Date;
  workPoolName?: string | null;
  workQueueName?: string | null;
  idempotencyKey?: string | null;
  autoScheduled?: boolean;
  empiricalPolicy?: Record<string, unknown>;
  /** Default: Scheduled at the expected start time. */
  state?: InitialState;
  /** The OpenTelemetry trace the run was created in (the API request's), when traced. */
  traceId?: string | null;
}

export interface CreatedFlowRun {
  flowRun: FlowRun;
  /** False when an equivalent run existed (same id, idempotency key or auto-scheduled time). */
  created: boolean;
}

/** A flow run removed before it started, whose queued job (if any) should be withdrawn. */
export interface WithdrawnRun {
  id: string;
  workPoolName: string | null;
}

/** A flow run deleted through the API, with the state it was in. */
export interface DeletedFlowRun extends WithdrawnRun {
  stateType: StateType | null;
}

/**
 * A flow run and its first state, in one statement (atomic on its own, one round trip, prepared
 * once per connection): the state is inserted only if the run was. Any unique key may conflict:
 * the id, (deployment, idempotency key), (deployment, auto-scheduled time). With a deployment row
 * version ($4), flow_id is the deployment's only while its row is at that version (Postgres's
 * xmin, which every update of the row changes) and NULL otherwise, so the insert fails as a whole
 * (see createDeploymentFlowRun's `unchangedSince`). An auto-scheduled run's insert also holds the
 * deployment's row (FOR SHARE) until it commits: a pause or schedule change, which withdraws the
 * auto-scheduled runs, then either waits for the insert and withdraws its run too, or commits
 * first and the insert, re-reading the row at its new version, fails. It returns the columns the
 * schema has (not `*`): a prepared statement whose result changes shape, as a later migration
 * adding a column would make it, fails on every connection that prepared it.
 */
const FLOW_RUN_COLUMNS = Object.entries(getTableColumns(flowRuns));
const insertFlowRunSql = (holdDeployment: boolean) => `
WITH run AS (
  INSERT INTO flow_runs (id, name, flow_id, deployment_id, parent_task_run_id, parameters, tags,
    expected_start_time, next_scheduled_start_time, start_time, end_time, run_count, state_id,
    state_type, state_name, state_timestamp, state_message, work_pool_name, work_queue_name,
    idempotency_key, auto_scheduled, empirical_policy, trace_id, created, updated)
  VALUES (coalesce($1::uuid, gen_random_uuid()), $2,
    CASE WHEN $4::xid IS NULL THEN $3::uuid
      ELSE (SELECT flow_id FROM deployments WHERE id = $5::uuid AND xmin = $4::xid${holdDeployment ? " FOR SHARE" : ""}) END,
    $5::uuid, $6::uuid, $7::jsonb, $8::text[], $9::timestamptz, $10::timestamptz, $11::timestamptz,
    $12::timestamptz, $13::integer, $14::uuid, $15::state_type, $16, $24::timestamptz, $17, $18, $19,
    $20, $21::boolean, $22::jsonb, $23, $24::timestamptz, $24::timestamptz)
  ON CONFLICT DO NOTHING
  RETURNING ${FLOW_RUN_COLUMNS.map(([, column]) => column.name).join(", ")}
),
state AS (
  INSERT INTO flow_run_states (id, flow_run_id, type, name, "timestamp", message, run_count, scheduled_time, created)
  SELECT $14::uuid, run.id, $15::state_type, $16, $24::timestamptz, $17, $13::integer, $10::timestamptz,
    $24::timestamptz
  FROM run
)
SELECT * FROM run`;
const INSERT_FLOW_RUN = { name: "sluice_insert_flow_run", text: insertFlowRunSql(false) };
const INSERT_SCHEDULED_FLOW_RUN = { name: "sluice_insert_scheduled_flow_run", text: insertFlowRunSql(true) };

/** Creates a flow run with its initial state (history row and current state) in one statement. */
export async function insertFlowRun(db: AnySluiceDb, run: NewFlowRun, now: Date = new Date()): Promise<CreatedFlowRun> {
  const initial = run.state ?? { type: "SCHEDULED" };
  const expectedStartTime = run.expectedStartTime ?? initial.scheduledTime ?? now;
  const scheduledTime = initial.type === "SCHEDULED" ? (initial.scheduledTime ?? expectedStartTime) : null;
  const runCount = initial.type === "RUNNING" ? 1 : 0;
  const at = now.toISOString();
  const holdDeployment = run.autoScheduled === true && run.deploymentRowVersion !== undefined;
  const [inserted] = await queryOnce(db, {
    ...(holdDeployment ? INSERT_SCHEDULED_FLOW_RUN : INSERT_FLOW_RUN),
    values: [
      run.id ?? null,
      run.name ?? generateRunName(),
      run.flowId,
      run.deploymentRowVersion ?? null,
      run.deploymentId ?? null,
      run.parentTaskRunId ?? null,
      toJsonParam(run.parameters ?? {}),
      textArrayLiteral(run.tags),
      expectedStartTime.toISOString(),
      scheduledTime?.toISOString() ?? null,
      initial.type === "RUNNING" ? at : null,
      isTerminal(initial.type) ? at : null,
      runCount,
      newRowId(),
      initial.type,
      initial.name ?? defaultStateName(initial.type),
      initial.message ?? null,
      run.workPoolName ?? null,
      run.workQueueName ?? null,
      run.idempotencyKey ?? null,
      run.autoScheduled ?? false,
      toJsonParam(run.empiricalPolicy ?? {}),
      run.traceId ?? null,
      at,
    ],
  });
  if (inserted) return { flowRun: flowRunFromRow(inserted), created: true };
  const existing = await findEquivalentRun(db, run, expectedStartTime);
  if (!existing) throw new Error("Flow run insert conflicted with a row that is gone");
  return { flowRun: existing, created: false };
}

/** A flow_runs row from raw SQL (snake_case, driver values) as drizzle would return it. */
function flowRunFromRow(row: Record<string, unknown>): FlowRun {
  const run: Record<string, unknown> = {};
  for (const [key, column] of FLOW_RUN_COLUMNS) {
    const value = row[column.name];
    run[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return run as FlowRun;
}

async function findEquivalentRun(db: AnySluiceDb, run: NewFlowRun, expectedStartTime: Date): Promise<FlowRun | null> {
  const candidates: SQL[] = [];
  if (run.id !== undefined) candidates.push(eq(flowRuns.id, run.id));
  if (run.deploymentId && run.idempotencyKey) {
    candidates.push(
      and(eq(flowRuns.deploymentId, run.deploymentId), eq(flowRuns.idempotencyKey, run.idempotencyKey)) as SQL,
    );
  }
  if (run.deploymentId && run.autoScheduled) {
    candidates.push(
      and(
        eq(flowRuns.deploymentId, run.deploymentId),
        eq(flowRuns.expectedStartTime, expectedStartTime),
        eq(flowRuns.autoScheduled, true),
      ) as SQL,
    );
  }
  for (const where of candidates) {
    const [row] = await db.select().from(flowRuns).where(where).limit(1);
    if (row) return row;
  }
  return null;
}

export interface DeploymentRunRequest {
  id?: string;
  /** When the run is due (default now). */
  scheduledTime?: Date;
  /** Created by the scheduler from a schedule: at most one such run per deployment and time. */
  autoScheduled?: boolean;
  /** Merged over the deployment's parameters. */
  parameters?: Record<string, unknown>;
  name?: string;
  /** Added to the deployment's tags. */
  tags?: string[];
  idempotencyKey?: string | null;
  /** Default: the deployment's queue. */
  workQueueName?: string | null;
  parentTaskRunId?: string | null;
  empiricalPolicy?: Record<string, unknown>;
  /** Default: Scheduled at `scheduledTime`. */
  state?: InitialState;
  /** The OpenTelemetry trace the run is created in, when traced. */
  traceId?: string | null;
}

/**
 * Creates a run of a deployment due at `scheduledTime` (idempotent: see insertFlowRun), in the
 * deployment's work pool. The caller enqueues it once this returns (`created` or not: enqueueing is
 * idempotent too, the job id being the run id).
 */
export async function createDeploymentFlowRun(
  db: AnySluiceDb,
  deployment: Pick<Deployment, "id" | "flowId" | "parameters" | "tags" | "workPoolName" | "workQueueName">,
  request: DeploymentRunRequest = {},
  now: Date = new Date(),
  options: {
    /**
     * The deployment row's version (`rowVersion`) the caller read `deployment` at: the run is
     * created only if the row is still at it, in the same statement (one round trip instead of a
     * read then a write), and DeploymentChangedError is thrown otherwise, with nothing written.
     */
    unchangedSince?: string;
  } = {},
): Promise<CreatedFlowRun> {
  const scheduledTime = request.scheduledTime ?? request.state?.scheduledTime ?? now;
  try {
    return await insertDeploymentRun(db, deployment, options.unchangedSince, request, scheduledTime, now);
  } catch (error) {
    if (options.unchangedSince !== undefined && isNullFlowId(error)) throw new DeploymentChangedError(deployment.id);
    throw error;
  }
}

/** The deployment changed (or was deleted) since the summary a run was to be created from was read. */
export class DeploymentChangedError extends Error {
  constructor(readonly deploymentId: string) {
    super(`Deployment ${deploymentId} changed since it was read`);
    this.name = "DeploymentChangedError";
  }
}

function isNullFlowId(error: unknown): boolean {
  const cause = error instanceof Error && error.cause ? error.cause : error;
  return pgErrorCode(cause) === "23502" && (cause as { column?: string }).column === "flow_id";
}

function insertDeploymentRun(
  db: AnySluiceDb,
  deployment: Pick<Deployment, "id" | "flowId" | "parameters" | "tags" | "workPoolName" | "workQueueName">,
  deploymentRowVersion: string | undefined,
  request: DeploymentRunRequest,
  scheduledTime: Date,
  now: Date,
): Promise<CreatedFlowRun> {
  return insertFlowRun(
    db,
    {
      id: request.id,
      flowId: deployment.flowId,
      deploymentRowVersion,
      name: request.name,
      deploymentId: deployment.id,
      parentTaskRunId: request.parentTaskRunId ?? null,
      parameters: { ...deployment.parameters, ...request.parameters },
      tags: [...new Set([...deployment.tags, ...(request.tags ?? [])])],
      expectedStartTime: scheduledTime,
      workPoolName: deployment.workPoolName ?? DEFAULT_WORK_POOL_NAME,
      workQueueName: request.workQueueName ?? deployment.workQueueName ?? DEFAULT_WORK_QUEUE_NAME,
      idempotencyKey: request.idempotencyKey ?? null,
      autoScheduled: request.autoScheduled ?? false,
      empiricalPolicy: request.empiricalPolicy,
      state: request.state ?? { type: "SCHEDULED", scheduledTime },
      traceId: request.traceId,
    },
    now,
  );
}

export interface StateRequest {
  type: StateType;
  name?: StateName;
  message?: string | null;
  /** COMPLETED: the result; FAILED/CRASHED: error details. */
  data?: unknown;
  /** For SCHEDULED: when the run is due (default now). */
  scheduledTime?: Date | null;
}

export interface SetStateResult {
  status: "ACCEPT" | "REJECT";
  /** Why the state was rejected. */
  reason: string | null;
  /** The run after the transition (its current state is the new one when accepted). */
  flowRun: FlowRun;
}

/**
 * Proposes a new state for a flow run, with the engine's rule (`shouldApplyState`): a run in a
 * terminal state stays there unless `force`. The accepted state is written to the history and
 * becomes the current state in one transaction. Null when there is no such run.
 *
 * `onlyFrom`: the state applies only over this current state, as read under the run's lock (the
 * scheduler's Late only over Scheduled: a run a worker took meanwhile, or that another scheduler
 * marked Late already, is left as it is).
 */
export async function setFlowRunState(
  db: AnySluiceDb,
  flowRunId: string,
  request: StateRequest,
  options: { force?: boolean; now?: Date; onlyFrom?: StateName } = {},
): Promise<SetStateResult | null> {
  const force = options.force ?? false;
  return db.transaction(async (tx) => {
    await tx.execute(bindParam(lockRunsSql(FLOW_RUN_TABLES), uuidArrayLiteral([flowRunId])));
    const [current] = await tx.select().from(flowRuns).where(eq(flowRuns.id, flowRunId)).limit(1);
    if (!current) return null;
    // Strictly after the current state, so "newest wins" orders them even within a millisecond.
    const nowMs = (options.now ?? new Date()).getTime();
    const timestamp = new Date(Math.max(nowMs, (current.stateTimestamp?.getTime() ?? 0) + 1));
    const name = request.name ?? defaultStateName(request.type);
    const currentPoint =
      current.stateType && current.stateTimestamp
        ? { type: current.stateType, timestamp: current.stateTimestamp.toISOString() }
        : null;
    if (options.onlyFrom !== undefined && current.stateName !== options.onlyFrom) {
      return {
        status: "REJECT",
        reason: `This run is ${current.stateName ?? "without a state"}, not ${options.onlyFrom}: it does not move to ${name}.`,
        flowRun: current,
      };
    }
    if (!shouldApplyState(currentPoint, { type: request.type, timestamp: timestamp.toISOString(), force })) {
      return {
        status: "REJECT",
        reason: `This run is in a terminal state (${current.stateName}) and cannot move to ${name} unless forced.`,
        flowRun: current,
      };
    }
    await tx.insert(flowRunStates).values({
      id: newRowId(),
      flowRunId,
      type: request.type,
      name,
      timestamp,
      message: request.message ?? null,
      data: request.data ?? null,
      runCount: request.type === "RUNNING" ? current.runCount + 1 : current.runCount,
      scheduledTime: request.type === "SCHEDULED" ? (request.scheduledTime ?? timestamp) : null,
      force,
    });
    await tx.execute(bindParam(applyStatesSql(FLOW_RUN_TABLES), uuidArrayLiteral([flowRunId])));
    const [updated] = await tx.select().from(flowRuns).where(eq(flowRuns.id, flowRunId)).limit(1);
    if (!updated) throw new Error("flow run vanished inside its transaction");
    return { status: "ACCEPT", reason: null, flowRun: updated };
  });
}

/**
 * Deletes a flow run with its state history and task runs, for good (a tombstone keeps events
 * still on their way from bringing it back); null when there is no such run.
 */
export async function deleteFlowRun(db: AnySluiceDb, id: string): Promise<DeletedFlowRun | null> {
  return db.transaction(async (tx) => {
    await waitForRecording(tx);
    const [deleted] = await tx
      .delete(flowRuns)
      .where(eq(flowRuns.id, id))
      .returning({ id: flowRuns.id, workPoolName: flowRuns.workPoolName, stateType: flowRuns.stateType });
    if (!deleted) return null;
    await deleteRunChildren(tx, [deleted.id]);
    await rememberDeletedFlowRuns(tx, [deleted.id]);
    return deleted;
  });
}

/**
 * Deletes a deployment's runs that are scheduled and never ran (only auto-scheduled ones, or all),
 * e.g. when its schedules change or it is paused. Returns them, to withdraw their queued jobs.
 */
export async function withdrawScheduledRuns(
  db: AnySluiceDb,
  deploymentId: string,
  options: { autoScheduledOnly: boolean },
): Promise<WithdrawnRun[]> {
  const where = [
    eq(flowRuns.deploymentId, deploymentId),
    eq(flowRuns.stateType, "SCHEDULED"),
    eq(flowRuns.runCount, 0),
  ];
  if (options.autoScheduledOnly) where.push(eq(flowRuns.autoScheduled, true));
  const deleted = await db
    .delete(flowRuns)
    .where(and(...where))
    .returning({ id: flowRuns.id, workPoolName: flowRuns.workPoolName });
  await deleteRunChildren(
    db,
    deleted.map((r) => r.id),
  );
  return deleted;
}

/** Flow runs by id, in the order of `ids` (missing ones are left out). */
export async function getFlowRuns(db: AnySluiceDb, ids: string[]): Promise<FlowRun[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(flowRuns).where(inArray(flowRuns.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** A statement of the batch writer with its one parameter ($1, maybe used several times) bound. */
function bindParam(text: string, value: unknown): SQL {
  return sql.join(
    text.split("$1").map((part) => sql.raw(part)),
    sql`${value}`,
  );
}
