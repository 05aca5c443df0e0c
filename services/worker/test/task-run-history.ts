/** What the task-run worker tests read back: each task run's recorded history. */
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
