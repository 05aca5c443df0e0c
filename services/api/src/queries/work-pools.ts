/** What work pool responses need beyond the pool rows: their default queue and whether a worker is online. */
import {
  type AnySluiceDb,
  and,
  DEFAULT_WORK_QUEUE_NAME,
  eq,
  inArray,
  type WorkPool,
  workers,
  workQueues,
} from "@sluice/db";
import { isWorkerOnline, type WorkPoolExtras } from "../serializers.js";

export async function workPoolExtras(
  db: AnySluiceDb,
  pools: WorkPool[],
  now: Date,
): Promise<Map<string, WorkPoolExtras>> {
  const ids = pools.map((p) => p.id);
  const extras = new Map<string, WorkPoolExtras>(
    ids.map((id) => [id, { defaultQueueId: null, hasOnlineWorker: false }]),
  );
  if (ids.length === 0) return extras;
  const [queues, poolWorkers] = await Promise.all([
    db
      .select({ id: workQueues.id, workPoolId: workQueues.workPoolId })
      .from(workQueues)
      .where(and(inArray(workQueues.workPoolId, ids), eq(workQueues.name, DEFAULT_WORK_QUEUE_NAME))),
    db.select().from(workers).where(inArray(workers.workPoolId, ids)),
  ]);
  for (const queue of queues) {
    const entry = extras.get(queue.workPoolId);
    if (entry) entry.defaultQueueId = queue.id;
  }
  for (const worker of poolWorkers) {
    const entry = extras.get(worker.workPoolId);
    if (entry && isWorkerOnline(worker, now)) entry.hasOnlineWorker = true;
  }
  return extras;
}

export async function workPoolExtrasOf(db: AnySluiceDb, pool: WorkPool, now: Date): Promise<WorkPoolExtras> {
  return (await workPoolExtras(db, [pool], now)).get(pool.id) ?? { defaultQueueId: null, hasOnlineWorker: false };
}
