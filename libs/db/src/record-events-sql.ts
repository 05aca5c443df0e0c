/**
 * The statements of the batch writer. Each one takes the whole batch (of one kind of row) as a
 * single jsonb parameter, so a batch costs the same handful of statements whatever its size, and
 * each is prepared once per connection.
 *
 * The rows every task run makes (its row, its states, its log lines: five per run of a `.map()`)
 * come as arrays of their fields in a fixed order, read with `jsonb_array_elements` and `->>`
 * by position (see record-events.ts for the orders): a quarter less Postgres CPU than objects
 * read with `jsonb_to_recordset` (100,000 state rows in 500-run batches: 1.2 against 1.7 s), and
 * half the JSON to build and send. The rarer rows come as objects.
 */
import { TERMINAL_STATE_TYPES } from "@sluice/core";

const TERMINAL = `'{${TERMINAL_STATE_TYPES.join(",")}}'::state_type[]`;

/**
 * Taken first by every batch's transaction, held to its commit: batches are recorded one at a time,
 * whichever recorder (server, `sluice run`, a second server) holds them. Recorded concurrently, a
 * batch that creates a run and one that brings its later states (a task run's creation comes from
 * the flow's worker, its Running and Completed from the one that ran it) each miss the other's
 * uncommitted rows: the states are kept in the history but applied to no row, and the row is
 * inserted with its first state only. The run would show Pending for good.
 */
export const LOCK_RECORDING = `SELECT pg_advisory_xact_lock(${0x51_1c_e0_ec})`;

/**
 * What makes a run, state or log row's insert idempotent: a row whose id exists is skipped. It
 * costs Postgres a lookup of the id before each insert, a sixth of its time recording a `.map()`'s
 * task runs (three states, a run and a log line each), to catch what happens only when events are
 * replayed (a recorder that died mid-batch, a task run created again): `recordEvents` writes those
 * rows without it first, and again with it when one of them turns out to exist.
 */
export const SKIP_EXISTING_IDS = "ON CONFLICT (id) DO NOTHING";

/** `sql` without `SKIP_EXISTING_IDS`: a row whose id exists fails the statement (unique_violation). */
export const failingOnExistingIds = (sql: string): string => {
  if (!sql.includes(SKIP_EXISTING_IDS)) throw new Error("not a statement that skips existing ids");
  return sql.replace(SKIP_EXISTING_IDS, "");
};

export const INSERT_FLOWS = `
INSERT INTO flows (id, name, created, updated)
SELECT t.id, t.name, t.created, t.created
FROM jsonb_to_recordset($1::jsonb) AS t(id uuid, name text, created timestamptz)
ON CONFLICT DO NOTHING`;

/** flow_id is the id of the flow row with the event's flow name, whichever process created it. */
export const INSERT_FLOW_RUNS = `
INSERT INTO flow_runs (id, name, flow_id, deployment_id, parent_task_run_id, parameters, tags,
  expected_start_time, work_pool_name, work_queue_name, created, updated)
SELECT t.id, t.name, f.id, t.deployment_id, t.parent_task_run_id, coalesce(t.parameters, '{}'),
  coalesce(t.tags, '{}'), t.expected_start_time, t.work_pool_name, t.work_queue_name, t.created, t.created
FROM jsonb_to_recordset($1::jsonb) AS t(id uuid, name text, flow_name text, deployment_id uuid,
  parent_task_run_id uuid, parameters jsonb, tags text[], expected_start_time timestamptz,
  work_pool_name text, work_queue_name text, created timestamptz)
JOIN flows f ON f.name = t.flow_name
${SKIP_EXISTING_IDS}`;

/** The trace a flow run executes in, from its creation event (the newest execution's wins). */
export const SET_FLOW_RUN_TRACE_IDS = `
UPDATE flow_runs AS r SET trace_id = t.trace_id
FROM (
  SELECT DISTINCT ON (x.id) x.id, x.trace_id
  FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, trace_id text, created timestamptz)
  ORDER BY x.id, x.created DESC
) t
WHERE r.id = t.id AND r.trace_id IS DISTINCT FROM t.trace_id`;

/** The fields of a task run row's array (`taskRunRow`), by position. */
const TASK_RUN_FIELDS = `(t->>0)::uuid, t->>1, (t->>2)::uuid, t->>3, t->>4, t->>5, (t->>6)::timestamptz,
  (t->>7)::text[], coalesce(nullif(t->8, 'null'), '{}'), (t->>9)::timestamptz, (t->>10)::timestamptz`;

export const INSERT_TASK_RUNS = `
INSERT INTO task_runs (id, name, flow_run_id, task_key, dynamic_key, cache_key, cache_expiration, tags,
  task_inputs, expected_start_time, created, updated)
SELECT ${TASK_RUN_FIELDS}, (t->>10)::timestamptz
FROM jsonb_array_elements($1::jsonb) AS t
${SKIP_EXISTING_IDS}`;

/**
 * Task runs whose states all came in the same batch, inserted with their current state and timing
 * already worked out (see fresh-run-state.ts). A run that has history already (a state recorded
 * before its row) or that exists (a replay) is not inserted here: the returned ids say which were.
 */
export const INSERT_FRESH_TASK_RUNS = `
INSERT INTO task_runs (id, name, flow_run_id, task_key, dynamic_key, cache_key, cache_expiration, tags,
  task_inputs, expected_start_time, created, updated, state_id, state_type, state_name, state_timestamp,
  state_message, run_count, start_time, end_time, total_run_time, next_scheduled_start_time, result)
SELECT ${TASK_RUN_FIELDS}, now(),
  (t->>11)::uuid, (t->>12)::state_type, t->>13, (t->>14)::timestamptz, t->>15, (t->>16)::integer,
  (t->>17)::timestamptz, (t->>18)::timestamptz, (t->>19)::double precision, (t->>20)::timestamptz,
  nullif(t->21, 'null')
FROM jsonb_array_elements($1::jsonb) AS t
WHERE NOT EXISTS (SELECT 1 FROM task_run_states h WHERE h.task_run_id = (t->>0)::uuid)
${SKIP_EXISTING_IDS}
RETURNING id`;

export interface RunTables {
  /** Statement-name suffix. */
  kind: "flow_run" | "task_run";
  runs: "flow_runs" | "task_runs";
  history: "flow_run_states" | "task_run_states";
  runIdColumn: "flow_run_id" | "task_run_id";
}

export const FLOW_RUN_TABLES: RunTables = {
  kind: "flow_run",
  runs: "flow_runs",
  history: "flow_run_states",
  runIdColumn: "flow_run_id",
};
export const TASK_RUN_TABLES: RunTables = {
  kind: "task_run",
  runs: "task_runs",
  history: "task_run_states",
  runIdColumn: "task_run_id",
};

export function insertStatesSql({ history, runIdColumn }: RunTables): string {
  return `
INSERT INTO ${history} (id, ${runIdColumn}, type, name, timestamp, message, data, run_count, scheduled_time, force)
SELECT (t->>0)::uuid, (t->>1)::uuid, (t->>2)::state_type, t->>3, (t->>4)::timestamptz, t->>5,
  nullif(t->6, 'null'), coalesce((t->>7)::integer, 0), (t->>8)::timestamptz, coalesce((t->>9)::boolean, false)
FROM jsonb_array_elements($1::jsonb) AS t
${SKIP_EXISTING_IDS}`;
}

/** The same rows as `insertStatesSql`'s, by COPY (see `SqlExecutor.copyFrom`); fails on an existing id. */
export function copyStatesSql({ history, runIdColumn }: RunTables): string {
  return `COPY ${history} (id, ${runIdColumn}, type, name, timestamp, message, data, run_count, scheduled_time, force) FROM STDIN`;
}

/**
 * Locks the run rows about to be updated, in id order (so two recorders never deadlock), before
 * the apply statement runs: that statement then starts with a snapshot that includes every state
 * another transaction committed for these runs while we waited.
 */
export function lockRunsSql({ runs }: RunTables): string {
  return `SELECT 1 FROM ${runs} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`;
}

/**
 * Sets the current state of the given runs from their state history. It is `shouldApplyState`
 * of @sluice/core folded over the states newer than the run's current one, in timestamp order:
 *
 * - a stale state (not newer than the current one) or a duplicate (same id) changes nothing;
 * - a terminal state is final: after it only a forced state applies;
 * - the last forced state always applies (it is newer than anything before it), then the
 *   states after it apply in order up to and including the first terminal one.
 *
 * So the result is: among the candidate states from the last forced one on (all of them when none
 * is forced and the current state is not terminal), the earliest terminal state, or else the
 * newest. States of the same run with the same timestamp count once: a forced one, else a terminal
 * one (a run that ended in the millisecond a cancel came in has ended), else the lowest id.
 *
 * Working from the history rather than only from this batch's events makes the rule hold for a
 * state that arrived before its run row: the row's creation applies the history it finds.
 * Timing comes from the whole history too, through the same rule folded from the first state:
 * start_time is the first RUNNING, total_run_time the seconds spent RUNNING (each RUNNING state up
 * to the next one), ignoring states the rule rejects (an unforced state after a terminal one).
 *
 * One exception to "newer": a Cancelling run also takes a terminal state of its current attempt
 * (since the last forced state) that is older than the Cancelling. That is a run which ended on its
 * worker while the cancel was on its way: the API, not seeing the end yet, accepted the cancel, and
 * no worker holds the run any more to record it Cancelled. Without it the run stayed Cancelling.
 *
 * Rows whose state and timing would not change are not written, so replays leave rows untouched.
 */
export function applyStatesSql({ runs, history, runIdColumn }: RunTables): string {
  return `
WITH target AS (
  SELECT id, state_type, state_timestamp FROM ${runs} WHERE id = ANY($1::uuid[])
),
history AS (
  SELECT DISTINCT ON (h.${runIdColumn}, h.timestamp)
    h.${runIdColumn} AS run_id, h.id, h.type, h.name, h.timestamp, h.message, h.data, h.run_count,
    h.scheduled_time, h.force
  FROM ${history} h
  WHERE h.${runIdColumn} = ANY($1::uuid[])
  ORDER BY h.${runIdColumn}, h.timestamp, h.force DESC, h.type = ANY (${TERMINAL}) DESC, h.id
),
-- The run's timeline: the history states that folding the rule from the first one would apply
-- (a state after a terminal one counts only if forced; a forced one opens a new segment).
segmented AS (
  SELECT run_id, type, timestamp, force,
    count(*) FILTER (WHERE force) OVER (PARTITION BY run_id ORDER BY timestamp ROWS UNBOUNDED PRECEDING) AS segment
  FROM history
),
timeline AS (
  SELECT run_id, type, timestamp FROM (
    SELECT s.*,
      count(*) FILTER (WHERE type = ANY (${TERMINAL})) OVER (
        PARTITION BY run_id, segment ORDER BY timestamp ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
      ) AS terminal_before
    FROM segmented s
  ) x
  WHERE terminal_before = 0
),
timing AS (
  SELECT s.run_id,
    min(s.timestamp) FILTER (WHERE s.type = 'RUNNING') AS start_time,
    coalesce(
      sum(extract(epoch FROM s.next_timestamp - s.timestamp)) FILTER (WHERE s.type = 'RUNNING'), 0
    )::double precision AS total_run_time
  FROM (
    SELECT run_id, type, timestamp, lead(timestamp) OVER (PARTITION BY run_id ORDER BY timestamp) AS next_timestamp
    FROM timeline
  ) s
  GROUP BY s.run_id
),
attempt AS (
  SELECT run_id, max(timestamp) FILTER (WHERE force) AS since FROM history GROUP BY run_id
),
candidates AS (
  SELECT h.*, r.state_type AS current_type,
    max(h.timestamp) FILTER (WHERE h.force) OVER (PARTITION BY h.run_id) AS forced_timestamp
  FROM history h JOIN target r ON r.id = h.run_id JOIN attempt a ON a.run_id = h.run_id
  WHERE r.state_timestamp IS NULL OR h.timestamp > r.state_timestamp
    OR (r.state_type = 'CANCELLING' AND h.type = ANY (${TERMINAL})
      AND (a.since IS NULL OR h.timestamp >= a.since))
),
final AS (
  SELECT DISTINCT ON (c.run_id) c.*
  FROM candidates c
  WHERE CASE
    WHEN c.forced_timestamp IS NOT NULL THEN c.timestamp >= c.forced_timestamp
    ELSE c.current_type IS NULL OR NOT (c.current_type = ANY (${TERMINAL}))
  END
  ORDER BY c.run_id,
    c.type = ANY (${TERMINAL}) DESC,
    CASE WHEN c.type = ANY (${TERMINAL}) THEN c.timestamp END ASC,
    c.timestamp DESC
),
changes AS (
  SELECT r.id, f.id AS state_id, f.type, f.name, f.timestamp, f.message, f.data, f.run_count,
    f.scheduled_time, t.start_time, t.total_run_time
  FROM target r
  LEFT JOIN final f ON f.run_id = r.id
  LEFT JOIN timing t ON t.run_id = r.id
)
UPDATE ${runs} AS r SET
  state_id = CASE WHEN c.state_id IS NULL THEN r.state_id ELSE c.state_id END,
  state_type = CASE WHEN c.state_id IS NULL THEN r.state_type ELSE c.type END,
  state_name = CASE WHEN c.state_id IS NULL THEN r.state_name ELSE c.name END,
  state_timestamp = CASE WHEN c.state_id IS NULL THEN r.state_timestamp ELSE c.timestamp END,
  state_message = CASE WHEN c.state_id IS NULL THEN r.state_message ELSE c.message END,
  run_count = CASE WHEN c.state_id IS NULL THEN r.run_count ELSE c.run_count END,
  end_time = CASE
    WHEN c.state_id IS NULL THEN r.end_time
    WHEN c.type = ANY (${TERMINAL}) THEN c.timestamp
    ELSE NULL END,
  next_scheduled_start_time = CASE
    WHEN c.state_id IS NULL THEN r.next_scheduled_start_time
    WHEN c.type = 'SCHEDULED' THEN coalesce(c.scheduled_time, c.timestamp)
    ELSE NULL END,
  result = CASE
    WHEN c.state_id IS NULL THEN r.result
    WHEN c.type = 'COMPLETED' THEN c.data
    ELSE NULL END,
  start_time = least(r.start_time, c.start_time),
  total_run_time = coalesce(c.total_run_time, r.total_run_time),
  updated = now()
FROM changes c
WHERE r.id = c.id
  AND (c.state_id IS NOT NULL
    OR r.start_time IS DISTINCT FROM least(r.start_time, c.start_time)
    OR r.total_run_time IS DISTINCT FROM coalesce(c.total_run_time, r.total_run_time))`;
}

/** The same rows as INSERT_LOGS's, by COPY (see `SqlExecutor.copyFrom`); fails on an existing id. */
export const COPY_LOGS = "COPY logs (id, flow_run_id, task_run_id, name, level, message, timestamp) FROM STDIN";

export const INSERT_LOGS = `
INSERT INTO logs (id, flow_run_id, task_run_id, name, level, message, timestamp)
SELECT (t->>0)::uuid, (t->>1)::uuid, (t->>2)::uuid, t->>3, (t->>4)::integer, t->>5, (t->>6)::timestamptz
FROM jsonb_array_elements($1::jsonb) AS t
${SKIP_EXISTING_IDS}`;

/** For every write of task_cache: a newer entry (by the time it was cached) replaces an older one under the same key. */
export const TASK_CACHE_NEWER_WINS = `
ON CONFLICT (cache_key) DO UPDATE SET
  task_run_id = excluded.task_run_id,
  result = excluded.result,
  expires_at = excluded.expires_at,
  created = excluded.created
WHERE task_cache.created < excluded.created`;

export const UPSERT_TASK_CACHE = `
INSERT INTO task_cache (cache_key, task_run_id, result, expires_at, created)
SELECT DISTINCT ON (t.cache_key) t.cache_key, t.task_run_id, t.result, t.expires_at, t.created
FROM jsonb_to_recordset($1::jsonb) AS t(cache_key text, task_run_id uuid, result jsonb,
  expires_at timestamptz, created timestamptz)
ORDER BY t.cache_key, t.created DESC, t.task_run_id DESC${TASK_CACHE_NEWER_WINS}`;
