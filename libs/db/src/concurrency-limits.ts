/** Tag concurrency limits (Prefect's `concurrency-limit create TAG N`), one row per tag. */

import type { AnySluiceDb } from "./client.js";
import { asc, eq, getTableColumns, inArray, sql } from "./drizzle.js";
import { type ConcurrencyLimit, concurrencyLimits } from "./schema.js";

/** Creates the tag's limit, or changes it. */
export async function upsertConcurrencyLimit(
  db: AnySluiceDb,
  tag: string,
  limit: number,
): Promise<{ concurrencyLimit: ConcurrencyLimit; created: boolean }> {
  const [row] = await db
    .insert(concurrencyLimits)
    .values({ tag, concurrencyLimit: limit })
    .onConflictDoUpdate({
      target: concurrencyLimits.tag,
      set: { concurrencyLimit: limit, updated: sql`now()` },
    })
    .returning({ ...getTableColumns(concurrencyLimits), inserted: sql<boolean>`(xmax = 0)` });
  if (!row) throw new Error("upsert returned no row");
  const { inserted, ...concurrencyLimit } = row;
  return { concurrencyLimit, created: inserted };
}

export async function getConcurrencyLimit(db: AnySluiceDb, id: string): Promise<ConcurrencyLimit | null> {
  const [row] = await db.select().from(concurrencyLimits).where(eq(concurrencyLimits.id, id)).limit(1);
  return row ?? null;
}

export async function getConcurrencyLimitByTag(db: AnySluiceDb, tag: string): Promise<ConcurrencyLimit | null> {
  const [row] = await db.select().from(concurrencyLimits).where(eq(concurrencyLimits.tag, tag)).limit(1);
  return row ?? null;
}

/** Limits by tag. */
export async function listConcurrencyLimits(
  db: AnySluiceDb,
  options: { limit?: number; offset?: number } = {},
): Promise<ConcurrencyLimit[]> {
  return db
    .select()
    .from(concurrencyLimits)
    .orderBy(asc(concurrencyLimits.tag))
    .limit(options.limit ?? 200)
    .offset(options.offset ?? 0);
}

/** Deletes a limit by id or by tag; the deleted row, or null when there was none. */
export async function deleteConcurrencyLimit(
  db: AnySluiceDb,
  by: { id: string } | { tag: string },
): Promise<ConcurrencyLimit | null> {
  const where = "id" in by ? eq(concurrencyLimits.id, by.id) : eq(concurrencyLimits.tag, by.tag);
  const [row] = await db.delete(concurrencyLimits).where(where).returning();
  return row ?? null;
}

/** The limits of those of `tags` that have one (tag → limit), read from the record (embedded mode's lookup). */
export async function getTagLimits(db: AnySluiceDb, tags: readonly string[]): Promise<Map<string, number>> {
  const limits = new Map<string, number>();
  if (tags.length === 0) return limits;
  const rows = await db
    .select({ tag: concurrencyLimits.tag, limit: concurrencyLimits.concurrencyLimit })
    .from(concurrencyLimits)
    .where(inArray(concurrencyLimits.tag, [...tags]));
  for (const row of rows) limits.set(row.tag, row.limit);
  return limits;
}
