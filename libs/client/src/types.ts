/** The Prefect-compatible REST shapes the client reads (the fields Sluice's tools use). */
import type { CollisionStrategy, StateName, StateType } from "@sluice/core";

export interface ApiState {
  id?: string;
  type: StateType;
  name: StateName;
  timestamp: string;
  message: string | null;
}

export interface ApiFlow {
  id: string;
  name: string;
  created: string;
}

export interface ApiFlowRun {
  id: string;
  name: string;
  flow_id: string;
  deployment_id: string | null;
  state_type: StateType | null;
  state_name: StateName | null;
  state: ApiState | null;
  parameters: Record<string, unknown>;
  tags: string[];
  expected_start_time: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
  run_count: number;
  work_pool_name: string | null;
  work_queue_name: string | null;
  parent_task_run_id: string | null;
  idempotency_key?: string | null;
  /** The OpenTelemetry trace id of the run (null when it was not traced). */
  trace_id?: string | null;
}

export interface ApiSchedule {
  id?: string;
  active: boolean;
  schedule:
    | { cron: string; timezone?: string | null }
    | { interval: number; anchor_date?: string | null; timezone?: string | null };
}

export interface ApiDeployment {
  id: string;
  name: string;
  flow_id: string;
  entrypoint: string | null;
  parameters: Record<string, unknown>;
  parameter_openapi_schema: Record<string, unknown> | null;
  tags: string[];
  work_pool_name: string | null;
  work_queue_name: string | null;
  paused: boolean;
  description: string | null;
  schedules: ApiSchedule[];
  concurrency_limit?: number | null;
  /** Prefect's ConcurrencyOptions (null when not given: ENQUEUE applies). */
  concurrency_options?: { collision_strategy: CollisionStrategy } | null;
  /** The deployment's limit as Prefect shows it, with the slots in use (null without a limit). */
  global_concurrency_limit?: { name: string; limit: number; active_slots: number } | null;
}

export interface ApiTaskRun {
  id: string;
  name: string;
  flow_run_id: string | null;
  task_key: string;
  state_type: StateType | null;
  state_name: StateName | null;
  start_time: string | null;
  end_time: string | null;
  run_count: number;
  expected_start_time?: string | null;
  total_run_time?: number;
  tags?: string[];
  cache_key?: string | null;
  cache_expiration?: string | null;
  /** A summary of the inputs, for display. */
  task_inputs?: Record<string, unknown>;
  state?: ApiState | null;
}

/** One state of a run's history (GET /flow_run_states/, /task_run_states/). */
export interface ApiRunState extends ApiState {
  id: string;
  /** Completed: the result; Failed/Crashed: the error. */
  data: unknown;
  state_details: { flow_run_id?: string; task_run_id?: string; run_count?: number };
}

/** POST /flow_runs/history: runs per time bucket and state. */
export interface ApiHistoryBucket {
  interval_start: string;
  interval_end: string;
  states: { state_type: StateType | null; state_name: StateName | null; count_runs: number }[];
}

export interface ApiLog {
  id: string;
  flow_run_id: string | null;
  task_run_id: string | null;
  name: string;
  level: number;
  message: string;
  timestamp: string;
}

/**
 * One event of Sluice's live feed (GET /events, Server-Sent Events; each message a JSON array of
 * them): a run event without its bulky payloads (results, inputs, parameters).
 */
export type ApiFeedEvent =
  | { kind: "flow_run_created"; id: string; flow_run_id: string; parent_task_run_id: string | null }
  | { kind: "task_run_created"; id: string; task_run_id: string; flow_run_id: string | null }
  | {
      kind: "state";
      id: string;
      run_kind: "flow_run" | "task_run";
      run_id: string;
      type: string;
      name: string;
      timestamp: string;
    }
  | {
      kind: "log";
      id: string;
      flow_run_id: string | null;
      task_run_id: string | null;
      level: string;
      message: string;
      timestamp: string;
    };

export interface ApiWorkPool {
  id: string;
  name: string;
  type: string;
  concurrency_limit: number | null;
  is_paused: boolean;
}

export interface ApiWorker {
  id: string;
  name: string;
  last_heartbeat_time: string;
  status: string;
}

export interface OrchestrationResult {
  status: "ACCEPT" | "REJECT" | "ABORT" | "WAIT";
  state: ApiState | null;
  details: Record<string, unknown>;
}

export interface ApiConcurrencyLimit {
  id: string;
  tag: string;
  concurrency_limit: number;
  /** Task run ids holding a slot now. */
  active_slots: string[];
  created: string;
  updated: string;
}

export interface ApiQueueDepth {
  waiting: number;
  running: number;
  delayed: number;
  failed: number;
}

/** Sluice's work pool health (GET /work_pools/{name}/health). */
export interface ApiWorkPoolHealth {
  name: string;
  status: string;
  is_paused: boolean;
  concurrency_limit: number | null;
  /** Flow runs running now across the pool (what `concurrency_limit` caps). */
  concurrency_in_use: number;
  workers_online: number;
  workers: ApiWorker[];
  flow_runs: ApiQueueDepth;
  task_runs: ApiQueueDepth;
  /** The pool's work queues that have a concurrency limit, with their slots in use. */
  work_queues: { name: string; concurrency_limit: number; concurrency_in_use: number }[];
}
