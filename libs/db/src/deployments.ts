/**
 * Deployments: a flow's entrypoint, default parameters, work pool and schedules, upserted by
 * (flow, name). A deployment's work pool (and queue) is created when missing, so a deployment is
 * always runnable by a worker of that pool.
 */
import type { CollisionStrategy } from "@sluice/core";
import type { AnySluiceDb } from "./client.js";
import { and, asc, eq, getTableColumns, inArray, sql } from "./drizzle.js";
import { type WithdrawnRun, withdrawScheduledRuns } from "./flow-runs-write.js";
import { type Deployment, type DeploymentSchedule, deploymentSchedules, deployments, flows } from "./schema.js";
import {
  DEFAULT_WORK_POOL_NAME,
  DEFAULT_WORK_QUEUE_NAME,
  definedOnly,
  ensureWorkPool,
  ensureWorkQueue,
} from "./work-pools.js";

/** A cron schedule (`cron`) or an interval schedule (`intervalSeconds`, counted from `anchorDate`). */
export interface ScheduleInput {
  cron?: string | null;
  intervalSeconds?: number | null;
  anchorDate?: Date | null;
  /** IANA time zone the schedule is evaluated in (default UTC). */
  timezone?: string | null;
  active?: boolean;
  /** Parameters of this schedule's runs, over the deployment's. */
  parameters?: Record<string, unknown>;
  slug?: string | null;
}

export interface DeploymentFields {
  entrypoint?: string | null;
  parameters?: Record<string, unknown>;
  parameterSchema?: Record<string, unknown> | null;
  tags?: string[];
  workPoolName?: string | null;
  workQueueName?: string | null;
  paused?: boolean;
  concurrencyLimit?: number | null;
  /** What a run finding every slot taken does (null: not given, ENQUEUE applies). */
  collisionStrategy?: CollisionStrategy | null;
  description?: string | null;
  version?: string | null;
  enforceParameterSchema?: boolean;
  jobVariables?: Record<string, unknown>;
  /** Replaces all the deployment's schedules when given. */
  schedules?: ScheduleInput[];
}

export interface DeploymentInput extends DeploymentFields {
  flowId: string;
  name: string;
}

/** A deployment with its flow's name. */
export type DeploymentSummary = Deployment & { flowName: string };

/** A deployment with its flow's name and its schedules (oldest first). */
export type DeploymentWithSchedules = DeploymentSummary & { schedules: DeploymentSchedule[] };

export interface DeploymentWrite {
  deployment: DeploymentWithSchedules;
  /** Scheduled runs removed because the schedules changed or the deployment was paused (withdraw their jobs). */
  withdrawn: WithdrawnRun[];
}

/**
 * Creates the deployment, or updates the fields given when the flow already has a deployment of
 * this name. Its work pool and queue are created when missing. When the schedules of an existing
 * deployment are replaced, its auto-scheduled runs that have not started are deleted (the
 * scheduler creates them anew).
 */
export async function upsertDeployment(
  db: AnySluiceDb,
  input: DeploymentInput,
): Promise<DeploymentWrite & { created: boolean }> {
  return db.transaction(async (tx) => {
    const { schedules, ...fields } = input;
    const workPoolName = fields.workPoolName ?? DEFAULT_WORK_POOL_NAME;
    const workQueueName = fields.workQueueName ?? DEFAULT_WORK_QUEUE_NAME;
    await ensurePoolAndQueue(tx, workPoolName, workQueueName);
    const values = { ...fields, workPoolName, workQueueName };
    const [row] = await tx
      .insert(deployments)
      .values(values)
      .onConflictDoUpdate({
        target: [deployments.flowId, deployments.name],
        set: {
          ...definedOnly({ ...fields, flowId: undefined, name: undefined }),
          // A new pool without a queue name means the new pool's default queue.
          ...(fields.workPoolName != null ? { workQueueName } : {}),
          updated: sql`now()`,
        },
      })
      .returning({ id: deployments.id, inserted: sql<boolean>`(xmax = 0)` });
    if (!row) throw new Error("upsert returned no row");
    let withdrawn: WithdrawnRun[] = [];
    if (schedules !== undefined) {
      if (!row.inserted) withdrawn = await withdrawScheduledRuns(tx, row.id, { autoScheduledOnly: true });
      await replaceSchedules(tx, row.id, schedules);
    }
    const deployment = await getDeployment(tx, row.id);
    if (!deployment) throw new Error("deployment vanished inside its transaction");
    return { deployment, created: row.inserted, withdrawn };
  });
}

/** Updates the fields given; null when there is no such deployment. */
export async function updateDeployment(
  db: AnySluiceDb,
  id: string,
  patch: DeploymentFields,
): Promise<DeploymentWrite | null> {
  return db.transaction(async (tx) => {
    const { schedules, ...fields } = patch;
    const [current] = await tx.select().from(deployments).where(eq(deployments.id, id)).for("update");
    if (!current) return null;
    if (fields.workPoolName !== undefined || fields.workQueueName !== undefined) {
      fields.workPoolName ??= current.workPoolName ?? DEFAULT_WORK_POOL_NAME;
      fields.workQueueName ??= DEFAULT_WORK_QUEUE_NAME;
      await ensurePoolAndQueue(tx, fields.workPoolName, fields.workQueueName);
    }
    await tx
      .update(deployments)
      .set({ ...definedOnly(fields), updated: sql`now()` })
      .where(eq(deployments.id, id));
    let withdrawn: WithdrawnRun[] = [];
    if (schedules !== undefined) {
      withdrawn = await withdrawScheduledRuns(tx, id, { autoScheduledOnly: true });
      await replaceSchedules(tx, id, schedules);
    } else if (fields.paused === true && !current.paused) {
      withdrawn = await withdrawScheduledRuns(tx, id, { autoScheduledOnly: true });
    }
    const deployment = await getDeployment(tx, id);
    return deployment && { deployment, withdrawn };
  });
}

/**
 * Pauses (no new scheduled runs; its auto-scheduled runs that have not started are deleted) or
 * resumes a deployment. Null when there is no such deployment.
 */
export async function setDeploymentPaused(
  db: AnySluiceDb,
  id: string,
  paused: boolean,
): Promise<{ withdrawn: WithdrawnRun[] } | null> {
  const result = await updateDeployment(db, id, { paused });
  return result && { withdrawn: result.withdrawn };
}

/**
 * Deletes a deployment and its schedules, and its runs that have not started (their jobs are to be
 * withdrawn). Runs that started keep their record. Null when there is no such deployment.
 */
export async function deleteDeployment(db: AnySluiceDb, id: string): Promise<{ withdrawn: WithdrawnRun[] } | null> {
  return db.transaction(async (tx) => {
    const deleted = await tx.delete(deployments).where(eq(deployments.id, id)).returning({ id: deployments.id });
    if (deleted.length === 0) return null;
    return { withdrawn: await withdrawScheduledRuns(tx, id, { autoScheduledOnly: false }) };
  });
}

const deploymentColumns = { ...getTableColumns(deployments), flowName: flows.name };

export async function getDeployment(db: AnySluiceDb, id: string): Promise<DeploymentWithSchedules | null> {
  const [row] = await db
    .select(deploymentColumns)
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(eq(deployments.id, id))
    .limit(1);
  if (!row) return null;
  const [withSchedules] = await attachSchedules(db, [row]);
  return withSchedules ?? null;
}

/** A deployment with its flow's name, without its schedules (one query: what creating a run needs). */
export async function getDeploymentSummary(db: AnySluiceDb, id: string): Promise<DeploymentSummary | null> {
  const [row] = await db
    .select(deploymentColumns)
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(eq(deployments.id, id))
    .limit(1);
  return row ?? null;
}

/** A deployment summary and its row version, which a flow-run insert can require to be unchanged. */
export type VersionedDeploymentSummary = DeploymentSummary & {
  /** Postgres's `xmin` of the deployment's row: every update of the row changes it. */
  rowVersion: string;
};

/** `getDeploymentSummary` with the row's version, for callers that keep the summary (see createDeploymentFlowRun). */
export async function getVersionedDeploymentSummary(
  db: AnySluiceDb,
  id: string,
): Promise<VersionedDeploymentSummary | null> {
  const [row] = await db
    .select({ ...deploymentColumns, rowVersion: sql<string>`${deployments}.xmin::text` })
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(eq(deployments.id, id))
    .limit(1);
  return row ?? null;
}

export async function getDeploymentByName(
  db: AnySluiceDb,
  flowName: string,
  deploymentName: string,
): Promise<DeploymentWithSchedules | null> {
  const [row] = await db
    .select(deploymentColumns)
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(and(eq(flows.name, flowName), eq(deployments.name, deploymentName)))
    .limit(1);
  if (!row) return null;
  const [withSchedules] = await attachSchedules(db, [row]);
  return withSchedules ?? null;
}

/** Deployments by id, in the order of `ids` (missing ones are left out). */
export async function getDeployments(db: AnySluiceDb, ids: string[]): Promise<DeploymentWithSchedules[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select(deploymentColumns)
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(inArray(deployments.id, ids));
  const byId = new Map((await attachSchedules(db, rows)).map((d) => [d.id, d]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Deployments that are not paused and have at least one active schedule, with their row versions
 * (for the scheduler, whose runs are created only while the deployment is still as it read it).
 */
export async function listScheduledDeployments(
  db: AnySluiceDb,
): Promise<(DeploymentWithSchedules & VersionedDeploymentSummary)[]> {
  const rows = await db
    .select({ ...deploymentColumns, rowVersion: sql<string>`${deployments}.xmin::text` })
    .from(deployments)
    .innerJoin(flows, eq(flows.id, deployments.flowId))
    .where(
      and(
        eq(deployments.paused, false),
        sql`EXISTS (SELECT 1 FROM ${deploymentSchedules} s WHERE s.deployment_id = ${deployments.id} AND s.active)`,
      ),
    )
    .orderBy(asc(deployments.id));
  return attachSchedules(db, rows);
}

async function attachSchedules<Row extends DeploymentSummary>(
  db: AnySluiceDb,
  rows: Row[],
): Promise<(Row & { schedules: DeploymentSchedule[] })[]> {
  if (rows.length === 0) return [];
  const schedules = await db
    .select()
    .from(deploymentSchedules)
    .where(
      inArray(
        deploymentSchedules.deploymentId,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(deploymentSchedules.created), asc(deploymentSchedules.id));
  const byDeployment = new Map<string, DeploymentSchedule[]>();
  for (const schedule of schedules) {
    const list = byDeployment.get(schedule.deploymentId) ?? [];
    list.push(schedule);
    byDeployment.set(schedule.deploymentId, list);
  }
  return rows.map((row) => ({ ...row, schedules: byDeployment.get(row.id) ?? [] }));
}

async function replaceSchedules(db: AnySluiceDb, deploymentId: string, schedules: ScheduleInput[]): Promise<void> {
  await db.delete(deploymentSchedules).where(eq(deploymentSchedules.deploymentId, deploymentId));
  if (schedules.length === 0) return;
  const now = Date.now();
  await db.insert(deploymentSchedules).values(
    schedules.map((s, i) => ({
      deploymentId,
      cron: s.cron ?? null,
      intervalSeconds: s.intervalSeconds ?? null,
      anchorDate: s.anchorDate ?? null,
      timezone: s.timezone ?? "UTC",
      active: s.active ?? true,
      parameters: s.parameters ?? {},
      slug: s.slug ?? null,
      // Distinct creation times keep the schedules in the order given.
      created: new Date(now + i),
    })),
  );
}

async function ensurePoolAndQueue(db: AnySluiceDb, workPoolName: string, workQueueName: string): Promise<void> {
  const { workPool } = await ensureWorkPool(db, workPoolName);
  await ensureWorkQueue(db, workPool.id, workQueueName);
}
