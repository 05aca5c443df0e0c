/** Reading run logs (used by tests and the CLI). */

import type { SQL } from "drizzle-orm";
import type { AnySluiceDb } from "./client.js";
import { and, asc, eq, gte } from "./drizzle.js";
import { type Log, logs } from "./schema.js";

export interface ListLogsOptions {
  flowRunId?: string;
  taskRunId?: string;
  /** Only levels at or above (Prefect numbers: INFO = 20). */
  minLevel?: number;
  limit?: number;
  offset?: number;
}

/** Logs oldest first. */
export async function listLogs(db: AnySluiceDb, options: ListLogsOptions = {}): Promise<Log[]> {
  const where: SQL[] = [];
  if (options.flowRunId !== undefined) where.push(eq(logs.flowRunId, options.flowRunId));
  if (options.taskRunId !== undefined) where.push(eq(logs.taskRunId, options.taskRunId));
  if (options.minLevel !== undefined) where.push(gte(logs.level, options.minLevel));
  return db
    .select()
    .from(logs)
    .where(and(...where))
    .orderBy(asc(logs.timestamp), asc(logs.id))
    .limit(options.limit ?? 10_000)
    .offset(options.offset ?? 0);
}
