/**
 * The Postgres ResultStore: queued task runs' arguments and results too large for their BullMQ
 * job, in `task_run_payloads`, written and read by the workers directly, by key. Rows are deleted
 * by whoever reads them last (the awaiting flow); those nobody deletes (a flow that died before
 * reading its result) expire after `ttlMs` and are swept by later writes.
 */
import type { ResultStore } from "@sluice/core";
import type { AnySluiceDb } from "./client.js";
import { eq, inArray, lt, sql } from "./drizzle.js";
import { taskRunPayloads } from "./schema.js";

export interface PostgresResultStoreOptions {
  /** How long a payload nobody deletes is kept (default 24 h, as long as a task run may wait in its queue). */
  ttlMs?: number;
  /** `put` deletes expired payloads in the background at most this often (default 10 min). */
  sweepIntervalMs?: number;
  /** Told when a background sweep fails (the next one tries again). */
  onSweepError?: (error: unknown) => void;
}

export const DEFAULT_PAYLOAD_TTL_MS = 24 * 3600 * 1000;
const DEFAULT_SWEEP_INTERVAL_MS = 10 * 60 * 1000;

export class PostgresResultStore implements ResultStore {
  private readonly ttlMs: number;
  private readonly sweepIntervalMs: number;
  private lastSweep = 0;

  constructor(
    private readonly db: AnySluiceDb,
    private readonly options: PostgresResultStoreOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PAYLOAD_TTL_MS;
    this.sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  }

  async put(key: string, json: string): Promise<void> {
    const expiresAt = new Date(Date.now() + this.ttlMs);
    await this.db
      .insert(taskRunPayloads)
      .values({ key, value: json, expiresAt })
      .onConflictDoUpdate({
        target: taskRunPayloads.key,
        set: { value: sql`excluded.value`, expiresAt: sql`excluded.expires_at` },
      });
    if (Date.now() - this.lastSweep >= this.sweepIntervalMs) {
      this.lastSweep = Date.now();
      this.deleteExpired().catch((error: unknown) => this.options.onSweepError?.(error));
    }
  }

  async get(key: string): Promise<string | null> {
    const [row] = await this.db
      .select({ value: taskRunPayloads.value })
      .from(taskRunPayloads)
      .where(eq(taskRunPayloads.key, key))
      .limit(1);
    return row?.value ?? null;
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.delete(taskRunPayloads).where(inArray(taskRunPayloads.key, [...keys]));
  }

  /** Deletes the payloads expired at `now`; returns how many. */
  async deleteExpired(now: Date = new Date()): Promise<number> {
    const deleted = await this.db
      .delete(taskRunPayloads)
      .where(lt(taskRunPayloads.expiresAt, now))
      .returning({ key: taskRunPayloads.key });
    return deleted.length;
  }
}
