/** Small read helpers over runs and their state history (used by tests and the CLI). */
import { asc, desc, eq } from "drizzle-orm";
import type { SluiceDb } from "./client.js";
import {
  type FlowRun,
  type FlowRunState,
  flowRunStates,
  flowRuns,
  type TaskRun,
  type TaskRunState,
  taskRunStates,
  taskRuns,
} from "./schema.js";

export async function getFlowRun(db: SluiceDb, id: string): Promise<FlowRun | null> {
  const [row] = await db.select().from(flowRuns).where(eq(flowRuns.id, id)).limit(1);
  return row ?? null;
}

/** Newest first (by expected start time). */
export async function listFlowRuns(
  db: SluiceDb,
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
export async function getFlowRunStates(db: SluiceDb, flowRunId: string): Promise<FlowRunState[]> {
  return db
    .select()
    .from(flowRunStates)
    .where(eq(flowRunStates.flowRunId, flowRunId))
    .orderBy(asc(flowRunStates.timestamp), asc(flowRunStates.id));
}

export async function getTaskRun(db: SluiceDb, id: string): Promise<TaskRun | null> {
  const [row] = await db.select().from(taskRuns).where(eq(taskRuns.id, id)).limit(1);
  return row ?? null;
}

/** The task runs of a flow run, in the order they were expected to start. */
export async function listTaskRuns(db: SluiceDb, options: { flowRunId: string; limit?: number }): Promise<TaskRun[]> {
  return db
    .select()
    .from(taskRuns)
    .where(eq(taskRuns.flowRunId, options.flowRunId))
    .orderBy(asc(taskRuns.expectedStartTime), asc(taskRuns.created), asc(taskRuns.id))
    .limit(options.limit ?? 10_000);
}

/** A task run's state history, oldest first. */
export async function getTaskRunStates(db: SluiceDb, taskRunId: string): Promise<TaskRunState[]> {
  return db
    .select()
    .from(taskRunStates)
    .where(eq(taskRunStates.taskRunId, taskRunId))
    .orderBy(asc(taskRunStates.timestamp), asc(taskRunStates.id));
}
