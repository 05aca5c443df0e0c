/** Flows by name: created on first use (by the API, a deploy, or the recorder), read by id or name. */

import type { AnySluiceDb } from "./client.js";
import { rememberDeletedFlowRuns, waitForRecording } from "./deleted-flow-runs.js";
import { eq, sql } from "./drizzle.js";
import type { DeletedFlowRun } from "./flow-runs-write.js";
import { uuidArrayLiteral } from "./json-param.js";
import { type Flow, flowRunStates, flowRuns, flows, taskRunStates, taskRuns } from "./schema.js";

/** The flow with this name, created if missing (tags are set only on creation, as Prefect does). */
export async function ensureFlow(
  db: AnySluiceDb,
  input: { name: string; tags?: string[] },
): Promise<{ flow: Flow; created: boolean }> {
  const [inserted] = await db
    .insert(flows)
    .values({ name: input.name, tags: input.tags ?? [] })
    .onConflictDoNothing({ target: flows.name })
    .returning();
  if (inserted) return { flow: inserted, created: true };
  const existing = await getFlowByName(db, input.name);
  if (!existing) throw new Error(`Flow '${input.name}' was deleted while being created`);
  return { flow: existing, created: false };
}

export async function getFlow(db: AnySluiceDb, id: string): Promise<Flow | null> {
  const [row] = await db.select().from(flows).where(eq(flows.id, id)).limit(1);
  return row ?? null;
}

export async function getFlowByName(db: AnySluiceDb, name: string): Promise<Flow | null> {
  const [row] = await db.select().from(flows).where(eq(flows.name, name)).limit(1);
  return row ?? null;
}

/**
 * Deletes a flow with its deployments (foreign key cascade) and its flow runs, their task runs and
 * state history. Logs stay. Returns the deleted flow runs (to withdraw their queued jobs), or
 * null when there is no such flow.
 */
export async function deleteFlow(db: AnySluiceDb, id: string): Promise<{ flowRuns: DeletedFlowRun[] } | null> {
  return db.transaction(async (tx) => {
    await waitForRecording(tx);
    const [deleted] = await tx.delete(flows).where(eq(flows.id, id)).returning({ id: flows.id });
    if (!deleted) return null;
    const runs = await tx
      .delete(flowRuns)
      .where(eq(flowRuns.flowId, id))
      .returning({ id: flowRuns.id, workPoolName: flowRuns.workPoolName, stateType: flowRuns.stateType });
    const runIds = runs.map((r) => r.id);
    await deleteRunChildren(tx, runIds);
    await rememberDeletedFlowRuns(tx, runIds);
    return { flowRuns: runs };
  });
}

/**
 * Removes the state history and task runs of deleted flow runs (there are no foreign keys to
 * cascade). The ids go as one array parameter, and the task runs' states are found in Postgres:
 * a `.map()` of 100,000 items makes that many task runs, and one parameter per id stops at
 * Postgres's 65,535 (the DELETE failed).
 */
export async function deleteRunChildren(db: AnySluiceDb, flowRunIds: string[]): Promise<void> {
  if (flowRunIds.length === 0) return;
  const ids = sql`${uuidArrayLiteral(flowRunIds)}::uuid[]`;
  await db.delete(flowRunStates).where(sql`${flowRunStates.flowRunId} = ANY(${ids})`);
  await db
    .delete(taskRunStates)
    .where(
      sql`${taskRunStates.taskRunId} IN (SELECT ${taskRuns.id} FROM ${taskRuns} WHERE ${taskRuns.flowRunId} = ANY(${ids}))`,
    );
  await db.delete(taskRuns).where(sql`${taskRuns.flowRunId} = ANY(${ids})`);
}
