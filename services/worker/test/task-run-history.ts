/** What the task-run worker tests read back: each task run's recorded history, and a poll until something holds. */
import type { Database } from "@sluice/db";

export interface TaskRunTimes {
  id: string;
  task_key: string;
  state_name: string;
  names: string[];
  running: Date | null;
  done: Date | null;
}

/** Each task run with its state names (oldest first) and when it started Running and ended. */
export async function taskRunTimes(database: Database): Promise<TaskRunTimes[]> {
  const { rows } = await database.pool.query<TaskRunTimes>(
    `SELECT t.id, t.task_key, t.state_name, array_agg(s.name ORDER BY s.timestamp) AS names,
            min(s.timestamp) FILTER (WHERE s.name = 'Running') AS running,
            max(s.timestamp) FILTER (WHERE s.type IN ('COMPLETED', 'CANCELLED')) AS done
     FROM task_runs t JOIN task_run_states s ON s.task_run_id = t.id GROUP BY t.id`,
  );
  return rows;
}

/** Polls `check` every 50 ms until it gives a value, which it returns; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
