/**
 * Work pools, their queues and the workers seen polling them (Prefect's model). Every pool has a
 * "default" queue, created with it. Runs reach workers through the pool's Redis queue; these rows
 * are the catalogue the API, the CLI and the UI show.
 */
import { ConflictError } from "@sluice/core";
import type { SQL } from "drizzle-orm";
import type { AnySluiceDb } from "./client.js";
import { and, asc, eq, inArray, sql } from "./drizzle.js";
import { pgErrorCode } from "./errors.js";
import { type Worker, type WorkPool, type WorkQueue, workers, workPools, workQueues } from "./schema.js";

export const DEFAULT_WORK_POOL_NAME = "default-agent-pool";
export const DEFAULT_WORK_QUEUE_NAME = "default";
export const DEFAULT_WORK_POOL_TYPE = "process";

export interface WorkPoolInput {
  name: string;
  type?: string;
  description?: string | null;
  concurrencyLimit?: number | null;
  paused?: boolean;
  baseJobTemplate?: Record<string, unknown>;
}

export type WorkPoolPatch = Partial<Omit<WorkPoolInput, "name" | "type">>;

/** Creates a pool and its default queue; ConflictError when the name is taken. */
export async function createWorkPool(db: AnySluiceDb, input: WorkPoolInput): Promise<WorkPool> {
  return db.transaction(async (tx) => {
    const [pool] = await tx
      .insert(workPools)
      .values(workPoolValues(input))
      .onConflictDoNothing({ target: workPools.name })
      .returning();
    if (!pool) throw new ConflictError("Work pool already exists.");
    await tx.insert(workQueues).values({ workPoolId: pool.id, name: DEFAULT_WORK_QUEUE_NAME, priority: 1 });
    return pool;
  });
}

/** The pool with this name, created (with its default queue) when missing. */
export async function ensureWorkPool(
  db: AnySluiceDb,
  name: string,
  options: { type?: string } = {},
): Promise<{ workPool: WorkPool; created: boolean }> {
  const existing = await getWorkPool(db, name);
  if (existing) return { workPool: existing, created: false };
  try {
    return { workPool: await createWorkPool(db, { name, type: options.type }), created: true };
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const raced = await getWorkPool(db, name);
    if (!raced) throw error;
    return { workPool: raced, created: false };
  }
}

export async function getWorkPool(db: AnySluiceDb, name: string): Promise<WorkPool | null> {
  const [row] = await db.select().from(workPools).where(eq(workPools.name, name)).limit(1);
  return row ?? null;
}

export interface ListWorkPoolsOptions {
  names?: string[];
  ids?: string[];
  types?: string[];
  limit?: number;
  offset?: number;
}

/** Pools by name. */
export async function listWorkPools(db: AnySluiceDb, options: ListWorkPoolsOptions = {}): Promise<WorkPool[]> {
  const where: SQL[] = [];
  if (options.names) where.push(inArray(workPools.name, options.names));
  if (options.ids) where.push(inArray(workPools.id, options.ids));
  if (options.types) where.push(inArray(workPools.type, options.types));
  return db
    .select()
    .from(workPools)
    .where(and(...where))
    .orderBy(asc(workPools.name))
    .limit(options.limit ?? 200)
    .offset(options.offset ?? 0);
}

export async function countWorkPools(db: AnySluiceDb, options: ListWorkPoolsOptions = {}): Promise<number> {
  const where: SQL[] = [];
  if (options.names) where.push(inArray(workPools.name, options.names));
  if (options.ids) where.push(inArray(workPools.id, options.ids));
  if (options.types) where.push(inArray(workPools.type, options.types));
  return db.$count(workPools, and(...where));
}

/** Updates the given fields; null when there is no such pool. */
export async function updateWorkPool(db: AnySluiceDb, name: string, patch: WorkPoolPatch): Promise<WorkPool | null> {
  const [row] = await db
    .update(workPools)
    .set({ ...definedOnly(patch), updated: sql`now()` })
    .where(eq(workPools.name, name))
    .returning();
  return row ?? null;
}

/** Deletes a pool with its queues and workers; false when there is no such pool. */
export async function deleteWorkPool(db: AnySluiceDb, name: string): Promise<boolean> {
  const deleted = await db.delete(workPools).where(eq(workPools.name, name)).returning({ id: workPools.id });
  return deleted.length > 0;
}

export interface WorkQueueInput {
  name: string;
  description?: string | null;
  concurrencyLimit?: number | null;
  priority?: number;
  paused?: boolean;
}

/** Creates a queue in a pool: null when the pool does not exist, ConflictError when the name is taken. */
export async function createWorkQueue(
  db: AnySluiceDb,
  workPoolName: string,
  input: WorkQueueInput,
): Promise<WorkQueue | null> {
  const pool = await getWorkPool(db, workPoolName);
  if (!pool) return null;
  const [row] = await db
    .insert(workQueues)
    .values({ workPoolId: pool.id, ...definedOnly(input), name: input.name })
    .onConflictDoNothing({ target: [workQueues.workPoolId, workQueues.name] })
    .returning();
  if (!row) throw new ConflictError("A work queue with this name already exists.");
  return row;
}

export type WorkQueuePatch = Partial<Omit<WorkQueueInput, "name">>;

/** Updates the given fields of a pool's queue; null when there is no such pool or queue. */
export async function updateWorkQueue(
  db: AnySluiceDb,
  workPoolName: string,
  queueName: string,
  patch: WorkQueuePatch,
): Promise<WorkQueue | null> {
  const pool = await getWorkPool(db, workPoolName);
  if (!pool) return null;
  const [row] = await db
    .update(workQueues)
    .set({ ...definedOnly(patch), updated: sql`now()` })
    .where(and(eq(workQueues.workPoolId, pool.id), eq(workQueues.name, queueName)))
    .returning();
  return row ?? null;
}

/** Every work queue with a concurrency limit (what workers enforce, mirrored into Redis). */
export async function listWorkQueueLimits(
  db: AnySluiceDb,
): Promise<{ workPoolName: string; queueName: string; concurrencyLimit: number }[]> {
  const rows = await db
    .select({ workPoolName: workPools.name, queueName: workQueues.name, concurrencyLimit: workQueues.concurrencyLimit })
    .from(workQueues)
    .innerJoin(workPools, eq(workPools.id, workQueues.workPoolId))
    .where(sql`${workQueues.concurrencyLimit} IS NOT NULL`);
  return rows.flatMap((row) =>
    row.concurrencyLimit === null ? [] : [{ ...row, concurrencyLimit: row.concurrencyLimit }],
  );
}

/** The queue of this pool with this name, created when missing (the pool must exist). */
export async function ensureWorkQueue(db: AnySluiceDb, workPoolId: string, name: string): Promise<WorkQueue> {
  const [inserted] = await db
    .insert(workQueues)
    .values({ workPoolId, name })
    .onConflictDoNothing({ target: [workQueues.workPoolId, workQueues.name] })
    .returning();
  if (inserted) return inserted;
  const [existing] = await db
    .select()
    .from(workQueues)
    .where(and(eq(workQueues.workPoolId, workPoolId), eq(workQueues.name, name)))
    .limit(1);
  if (!existing) throw new Error(`Work queue '${name}' was deleted while being created`);
  return existing;
}

export async function getWorkQueue(
  db: AnySluiceDb,
  workPoolName: string,
  queueName: string,
): Promise<(WorkQueue & { workPoolName: string }) | null> {
  const [row] = await db
    .select({ queue: workQueues, workPoolName: workPools.name })
    .from(workQueues)
    .innerJoin(workPools, eq(workPools.id, workQueues.workPoolId))
    .where(and(eq(workPools.name, workPoolName), eq(workQueues.name, queueName)))
    .limit(1);
  return row ? { ...row.queue, workPoolName: row.workPoolName } : null;
}

/** The queues of a pool by priority (null when the pool does not exist). */
export async function listWorkQueues(
  db: AnySluiceDb,
  workPoolName: string,
  options: { names?: string[]; limit?: number; offset?: number } = {},
): Promise<{ workPool: WorkPool; queues: WorkQueue[] } | null> {
  const pool = await getWorkPool(db, workPoolName);
  if (!pool) return null;
  const where: SQL[] = [eq(workQueues.workPoolId, pool.id)];
  if (options.names) where.push(inArray(workQueues.name, options.names));
  const queues = await db
    .select()
    .from(workQueues)
    .where(and(...where))
    .orderBy(asc(workQueues.priority), asc(workQueues.name))
    .limit(options.limit ?? 200)
    .offset(options.offset ?? 0);
  return { workPool: pool, queues };
}

/**
 * Records a worker's heartbeat (creating the worker row on its first one). Null when the pool does
 * not exist.
 */
export async function recordWorkerHeartbeat(
  db: AnySluiceDb,
  workPoolName: string,
  input: { name: string; heartbeatIntervalSeconds?: number | null },
): Promise<Worker | null> {
  const pool = await getWorkPool(db, workPoolName);
  if (!pool) return null;
  const interval = input.heartbeatIntervalSeconds ?? null;
  try {
    const [row] = await db
      .insert(workers)
      .values({ workPoolId: pool.id, name: input.name, heartbeatIntervalSeconds: interval, status: "ONLINE" })
      .onConflictDoUpdate({
        target: [workers.workPoolId, workers.name],
        set: {
          lastHeartbeatTime: sql`now()`,
          heartbeatIntervalSeconds: sql`coalesce(excluded.heartbeat_interval_seconds, ${workers.heartbeatIntervalSeconds})`,
          status: "ONLINE",
          updated: sql`now()`,
        },
      })
      .returning();
    return row ?? null;
  } catch (error) {
    // The pool was deleted between the two statements.
    if (pgErrorCode(error) === "23503") return null;
    throw error;
  }
}

/** The workers of a pool, most recently seen first (null when the pool does not exist). */
export async function listWorkers(
  db: AnySluiceDb,
  workPoolName: string,
  options: { limit?: number; offset?: number } = {},
): Promise<Worker[] | null> {
  const pool = await getWorkPool(db, workPoolName);
  if (!pool) return null;
  return db
    .select()
    .from(workers)
    .where(eq(workers.workPoolId, pool.id))
    .orderBy(sql`${workers.lastHeartbeatTime} DESC`, asc(workers.name))
    .limit(options.limit ?? 200)
    .offset(options.offset ?? 0);
}

function workPoolValues(input: WorkPoolInput) {
  return {
    ...definedOnly({
      type: input.type,
      description: input.description,
      concurrencyLimit: input.concurrencyLimit,
      paused: input.paused,
      baseJobTemplate: input.baseJobTemplate,
    }),
    name: input.name,
  };
}

/** The fields that are set (undefined means "leave as is"; null is a value). */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
