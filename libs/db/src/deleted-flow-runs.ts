/**
 * Tombstones of flow runs deleted through the API. A worker may still be running such a run (it is
 * told to stop) and events about it may still be on their way to the recorder: the worker's replay
 * of the run's creation, its last states and task runs. The recorder drops those, so a deleted run
 * does not come back. A tombstone is kept a day, far longer than any event waits on the stream.
 */

import type { AnySluiceDb } from "./client.js";
import { sql } from "./drizzle.js";
import { uuidArrayLiteral } from "./json-param.js";
import type { SqlExecutor } from "./queryable.js";
import { LOCK_RECORDING } from "./record-events-sql.js";

/**
 * The first statement of a transaction that deletes flow runs: the recorder's batch in progress
 * commits first (a run it was creating is then deleted too), and the batches after it see the
 * tombstones (see `recordEvents`).
 */
export async function waitForRecording(tx: AnySluiceDb): Promise<void> {
  await tx.execute(sql.raw(LOCK_RECORDING));
}

/** Leaves tombstones for the deleted runs and forgets those over a day old. */
export async function rememberDeletedFlowRuns(tx: AnySluiceDb, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.execute(sql`DELETE FROM deleted_flow_runs WHERE deleted < now() - interval '1 day'`);
  // One array parameter, however many runs a deleted flow had (ids read back from Postgres).
  await tx.execute(
    sql`INSERT INTO deleted_flow_runs (id) SELECT unnest(${uuidArrayLiteral(ids)}::uuid[]) ON CONFLICT DO NOTHING`,
  );
}

/** Which of these flow runs were deleted (run inside the recorder's transaction, after its lock). */
export async function deletedFlowRunsAmong(client: SqlExecutor, ids: Iterable<string>): Promise<Set<string>> {
  const list = [...ids];
  if (list.length === 0) return new Set();
  const rows = await client.query<{ id: string }>({
    name: "sluice_deleted_flow_runs_among",
    text: "SELECT id::text FROM deleted_flow_runs WHERE id = ANY($1::uuid[])",
    values: [list],
  });
  return new Set(rows.map((row) => row.id));
}
