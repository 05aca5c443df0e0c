/** Small read helpers over runs and their state history (used by tests and the CLI). */
import { InvalidInputError } from "@sluice/core";
import type { AnySluiceDb } from "./client.js";
import { asc, desc, eq, getTableColumns, inArray, sql } from "./drizzle.js";
import {
  type FlowRun,
  type FlowRunState,
  flowRunStates,
  flowRuns,
  flows,
  type TaskRun,
  type TaskRunState,
  taskRunStates,
  taskRuns,
} from "./schema.js";

export async function getFlowRun(db: AnySluiceDb, id: string): Promise<FlowRun | null> {
  const [row] = await db.select().from(flowRuns).where(eq(flowRuns.id, id)).limit(1);
  return row ?? null;
}

/** Newest first (by expected start time). */
export async function listFlowRuns(
  db: AnySluiceDb,
  options: { limit?: number; offset?: number } = {},
): Promise<FlowRun[]> {
  return db
    .select()
    .from(flowRuns)
    .orderBy(desc(flowRuns.expectedStartTime), desc(flowRuns.id))
    .limit(options.limit ?? 100)
    .offset(options.offset ?? 0);
}

/** A flow run's state history, oldest first. */
export async function getFlowRunStates(db: AnySluiceDb, flowRunId: string): Promise<FlowRunState[]> {
  return db
    .select()
    .from(flowRunStates)
    .where(eq(flowRunStates.flowRunId, flowRunId))
    .orderBy(asc(flowRunStates.timestamp), asc(flowRunStates.id));
}

export async function getTaskRun(db: AnySluiceDb, id: string): Promise<TaskRun | null> {
  const [row] = await db.select().from(taskRuns).where(eq(taskRuns.id, id)).limit(1);
  return row ?? null;
}

/** The task runs of a flow run, in the order they were expected to start. */
export async function listTaskRuns(
  db: AnySluiceDb,
  options: { flowRunId: string; limit?: number },
): Promise<TaskRun[]> {
  return db
    .select()
    .from(taskRuns)
    .where(eq(taskRuns.flowRunId, options.flowRunId))
    .orderBy(asc(taskRuns.expectedStartTime), asc(taskRuns.created), asc(taskRuns.id))
    .limit(options.limit ?? 10_000);
}

/** A task run's state history, oldest first. */
export async function getTaskRunStates(db: AnySluiceDb, taskRunId: string): Promise<TaskRunState[]> {
  return db
    .select()
    .from(taskRunStates)
    .where(eq(taskRunStates.taskRunId, taskRunId))
    .orderBy(asc(taskRunStates.timestamp), asc(taskRunStates.id));
}

/** A flow run with the name of its flow. */
export type FlowRunSummary = FlowRun & { flowName: string };

const summaryColumns = { ...getTableColumns(flowRuns), flowName: flows.name };

/** Flow runs with their flow's name, newest first (by expected start time). */
export async function listFlowRunSummaries(
  db: AnySluiceDb,
  options: { limit?: number; offset?: number } = {},
): Promise<FlowRunSummary[]> {
  return db
    .select(summaryColumns)
    .from(flowRuns)
    .innerJoin(flows, eq(flows.id, flowRuns.flowId))
    .orderBy(desc(flowRuns.expectedStartTime), desc(flowRuns.created), desc(flowRuns.id))
    .limit(options.limit ?? 100)
    .offset(options.offset ?? 0);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{3,35}$/i;

/**
 * The flow run with this id, or with the only id starting with it (at least 4 characters, as
 * `git` accepts short hashes); null when there is none. Throws when a prefix is ambiguous.
 */
export async function findFlowRun(db: AnySluiceDb, idOrPrefix: string): Promise<FlowRunSummary | null> {
  const query = db.select(summaryColumns).from(flowRuns).innerJoin(flows, eq(flows.id, flowRuns.flowId));
  if (UUID.test(idOrPrefix)) {
    const [row] = await query.where(eq(flowRuns.id, idOrPrefix)).limit(1);
    return row ?? null;
  }
  if (!ID_PREFIX.test(idOrPrefix)) return null;
  const rows = await query.where(sql`${flowRuns.id}::text LIKE ${`${idOrPrefix.toLowerCase()}%`}`).limit(2);
  if (rows.length > 1) throw new InvalidInputError(`Flow run id prefix '${idOrPrefix}' is ambiguous`);
  return rows[0] ?? null;
}

/** Flow runs started from these task runs (subflows), in the order they were expected to start. */
export async function listSubflowRuns(db: AnySluiceDb, parentTaskRunIds: string[]): Promise<FlowRunSummary[]> {
  if (parentTaskRunIds.length === 0) return [];
  return db
    .select(summaryColumns)
    .from(flowRuns)
    .innerJoin(flows, eq(flows.id, flowRuns.flowId))
    .where(inArray(flowRuns.parentTaskRunId, parentTaskRunIds))
    .orderBy(asc(flowRuns.expectedStartTime), asc(flowRuns.id));
}

/** The state histories of several task runs, each oldest first. */
export async function listTaskRunStates(db: AnySluiceDb, taskRunIds: string[]): Promise<TaskRunState[]> {
  if (taskRunIds.length === 0) return [];
  return db
    .select()
    .from(taskRunStates)
    .where(inArray(taskRunStates.taskRunId, taskRunIds))
    .orderBy(asc(taskRunStates.taskRunId), asc(taskRunStates.timestamp), asc(taskRunStates.id));
}
