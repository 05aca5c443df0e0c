/**
 * Rows → Prefect's response shapes (snake_case, ISO timestamps in UTC, every field Prefect's
 * clients read, with Prefect's defaults for the ones Sluice does not model).
 */
import { deploymentLimitKey } from "@sluice/core";
import type {
  ConcurrencyLimit,
  DeploymentSchedule,
  DeploymentWithSchedules,
  Flow,
  FlowRun,
  Log,
  TaskRun,
  Worker,
  WorkPool,
  WorkQueue,
} from "@sluice/db";

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/** Prefect's workers heartbeat every 30 s and count as offline after three missed heartbeats. */
const DEFAULT_HEARTBEAT_SECONDS = 30;
const MISSED_HEARTBEATS = 3;

interface CurrentState {
  id: string;
  stateId: string | null;
  stateType: FlowRun["stateType"];
  stateName: string | null;
  stateTimestamp: Date | null;
  stateMessage: string | null;
  nextScheduledStartTime: Date | null;
}

function stateDetails(overrides: Record<string, unknown>) {
  return {
    flow_run_id: null,
    task_run_id: null,
    child_flow_run_id: null,
    scheduled_time: null,
    cache_key: null,
    cache_expiration: null,
    deferred: false,
    untrackable_result: false,
    pause_timeout: null,
    pause_reschedule: false,
    pause_key: null,
    run_input_keyset: null,
    refresh_cache: null,
    retriable: null,
    transition_id: null,
    task_parameters_id: null,
    traceparent: null,
    ...overrides,
  };
}

/** A run's current state as Prefect's State object (null before the run has a state). */
function currentState(run: CurrentState, details: Record<string, unknown>) {
  if (run.stateType === null) return null;
  return {
    id: run.stateId,
    type: run.stateType,
    name: run.stateName,
    timestamp: iso(run.stateTimestamp),
    message: run.stateMessage,
    data: null,
    state_details: stateDetails({
      ...details,
      scheduled_time: run.stateType === "SCHEDULED" ? iso(run.nextScheduledStartTime) : null,
    }),
  };
}

/** Run time so far (a running attempt counts up to now) and how late the start was or is. */
function timing(run: FlowRun | TaskRun, now: Date) {
  const runningSince = run.stateType === "RUNNING" ? run.stateTimestamp : null;
  const estimatedRunTime =
    run.totalRunTime + (runningSince ? Math.max(0, now.getTime() - runningSince.getTime()) / 1000 : 0);
  let startDelta = 0;
  if (run.expectedStartTime) {
    const started = run.startTime ?? (run.stateType === "SCHEDULED" || run.stateType === "PENDING" ? now : null);
    if (started) startDelta = Math.max(0, (started.getTime() - run.expectedStartTime.getTime()) / 1000);
  }
  return { estimated_run_time: estimatedRunTime, estimated_start_time_delta: startDelta };
}

export function flowOut(flow: Flow) {
  return {
    id: flow.id,
    created: iso(flow.created),
    updated: iso(flow.updated),
    name: flow.name,
    tags: flow.tags,
    labels: {},
  };
}

export function flowRunStateOut(run: FlowRun) {
  return currentState(run, { flow_run_id: run.id });
}

export function flowRunOut(run: FlowRun, now: Date = new Date()) {
  return {
    id: run.id,
    created: iso(run.created),
    updated: iso(run.updated),
    name: run.name,
    flow_id: run.flowId,
    state_id: run.stateId,
    deployment_id: run.deploymentId,
    deployment_version: null,
    work_queue_id: null,
    work_queue_name: run.workQueueName,
    flow_version: null,
    parameters: run.parameters,
    idempotency_key: run.idempotencyKey,
    context: {},
    empirical_policy: {
      max_retries: 0,
      retry_delay_seconds: 0,
      retries: null,
      retry_delay: null,
      pause_keys: [],
      resuming: false,
      retry_type: null,
      ...run.empiricalPolicy,
    },
    tags: run.tags,
    labels: {},
    parent_task_run_id: run.parentTaskRunId,
    state_type: run.stateType,
    state_name: run.stateName,
    run_count: run.runCount,
    expected_start_time: iso(run.expectedStartTime),
    next_scheduled_start_time: iso(run.nextScheduledStartTime),
    start_time: iso(run.startTime),
    end_time: iso(run.endTime),
    total_run_time: run.totalRunTime,
    ...timing(run, now),
    auto_scheduled: run.autoScheduled,
    infrastructure_document_id: null,
    infrastructure_pid: null,
    created_by: null,
    work_pool_id: null,
    work_pool_name: run.workPoolName,
    state: flowRunStateOut(run),
    job_variables: {},
    /** Sluice: the OpenTelemetry trace of the run (null when not traced). */
    trace_id: run.traceId,
  };
}

export function taskRunOut(run: TaskRun, now: Date = new Date()) {
  return {
    id: run.id,
    created: iso(run.created),
    updated: iso(run.updated),
    name: run.name,
    flow_run_id: run.flowRunId,
    task_key: run.taskKey,
    dynamic_key: run.dynamicKey,
    cache_key: run.cacheKey,
    cache_expiration: iso(run.cacheExpiration),
    task_version: null,
    empirical_policy: { max_retries: 0, retry_delay_seconds: 0, retries: 0, retry_delay: 0, retry_jitter_factor: null },
    tags: run.tags,
    labels: {},
    state_id: run.stateId,
    task_inputs: run.taskInputs,
    state_type: run.stateType,
    state_name: run.stateName,
    run_count: run.runCount,
    flow_run_run_count: 0,
    expected_start_time: iso(run.expectedStartTime),
    next_scheduled_start_time: iso(run.nextScheduledStartTime),
    start_time: iso(run.startTime),
    end_time: iso(run.endTime),
    total_run_time: run.totalRunTime,
    ...timing(run, now),
    state: currentState(run, {
      flow_run_id: run.flowRunId,
      task_run_id: run.id,
      cache_key: run.cacheKey,
      cache_expiration: iso(run.cacheExpiration),
    }),
  };
}

function scheduleOut(schedule: DeploymentSchedule) {
  const spec =
    schedule.cron !== null
      ? { cron: schedule.cron, timezone: schedule.timezone, day_or: true }
      : { interval: schedule.intervalSeconds, anchor_date: iso(schedule.anchorDate), timezone: schedule.timezone };
  return {
    id: schedule.id,
    created: iso(schedule.created),
    updated: iso(schedule.updated),
    deployment_id: schedule.deploymentId,
    schedule: spec,
    active: schedule.active,
    max_scheduled_runs: null,
    parameters: schedule.parameters,
    slug: schedule.slug,
  };
}

/**
 * A deployment as Prefect returns it. A deployment with a concurrency limit shows it as Prefect's
 * `global_concurrency_limit` (named `deployment:<id>`, like Prefect's), with the slots in use.
 */
export function deploymentOut(deployment: DeploymentWithSchedules, activeSlots = 0) {
  const limit = deployment.concurrencyLimit;
  return {
    id: deployment.id,
    created: iso(deployment.created),
    updated: iso(deployment.updated),
    name: deployment.name,
    version: deployment.version,
    version_id: null,
    description: deployment.description,
    flow_id: deployment.flowId,
    paused: deployment.paused,
    status: "READY",
    schedules: deployment.schedules.map(scheduleOut),
    concurrency_limit: limit,
    global_concurrency_limit:
      limit === null
        ? null
        : {
            id: deployment.id,
            created: iso(deployment.created),
            updated: iso(deployment.updated),
            active: true,
            name: deploymentLimitKey(deployment.id),
            limit,
            active_slots: activeSlots,
            slot_decay_per_second: 0,
          },
    concurrency_options: deployment.collisionStrategy ? { collision_strategy: deployment.collisionStrategy } : null,
    job_variables: deployment.jobVariables,
    parameters: deployment.parameters,
    tags: deployment.tags,
    labels: {},
    work_queue_name: deployment.workQueueName,
    last_polled: null,
    parameter_openapi_schema: deployment.parameterSchema,
    path: null,
    pull_steps: null,
    entrypoint: deployment.entrypoint,
    storage_document_id: null,
    infrastructure_document_id: null,
    created_by: null,
    updated_by: null,
    work_queue_id: null,
    enforce_parameter_schema: deployment.enforceParameterSchema,
    work_pool_name: deployment.workPoolName,
  };
}

export function isWorkerOnline(worker: Worker, now: Date): boolean {
  const interval = worker.heartbeatIntervalSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
  return now.getTime() - worker.lastHeartbeatTime.getTime() <= interval * MISSED_HEARTBEATS * 1000;
}

export function workerOut(worker: Worker, now: Date = new Date()) {
  return {
    id: worker.id,
    created: iso(worker.created),
    updated: iso(worker.updated),
    name: worker.name,
    work_pool_id: worker.workPoolId,
    last_heartbeat_time: iso(worker.lastHeartbeatTime),
    heartbeat_interval_seconds: worker.heartbeatIntervalSeconds,
    status: isWorkerOnline(worker, now) ? "ONLINE" : "OFFLINE",
  };
}

/** What a pool's status depends on besides its own row. */
export interface WorkPoolExtras {
  defaultQueueId: string | null;
  /** Whether some worker of the pool heartbeated recently. */
  hasOnlineWorker: boolean;
}

export function workPoolStatus(pool: WorkPool, extras: WorkPoolExtras): "READY" | "NOT_READY" | "PAUSED" {
  if (pool.paused) return "PAUSED";
  return extras.hasOnlineWorker ? "READY" : "NOT_READY";
}

export function workPoolOut(pool: WorkPool, extras: WorkPoolExtras) {
  return {
    id: pool.id,
    created: iso(pool.created),
    updated: iso(pool.updated),
    name: pool.name,
    description: pool.description,
    type: pool.type,
    base_job_template: pool.baseJobTemplate,
    is_paused: pool.paused,
    concurrency_limit: pool.concurrencyLimit,
    status: workPoolStatus(pool, extras),
    default_queue_id: extras.defaultQueueId,
    storage_configuration: {
      bundle_upload_step: null,
      bundle_execution_step: null,
      default_result_storage_block_id: null,
    },
  };
}

export function workQueueOut(queue: WorkQueue, pool: WorkPool, extras: WorkPoolExtras) {
  const poolStatus = workPoolStatus(pool, extras);
  return {
    id: queue.id,
    created: iso(queue.created),
    updated: iso(queue.updated),
    name: queue.name,
    description: queue.description,
    is_paused: queue.paused,
    concurrency_limit: queue.concurrencyLimit,
    priority: queue.priority,
    work_pool_id: queue.workPoolId,
    filter: null,
    last_polled: iso(queue.lastPolled),
    work_pool_name: pool.name,
    status: queue.paused ? "PAUSED" : poolStatus,
  };
}

export function logOut(log: Log) {
  return {
    id: log.id,
    created: iso(log.created),
    updated: iso(log.created),
    name: log.name,
    level: log.level,
    message: log.message,
    timestamp: iso(log.timestamp),
    flow_run_id: log.flowRunId,
    task_run_id: log.taskRunId,
    worker_id: null,
  };
}

/** Prefect's OrchestrationResult for a proposed state. */
export function orchestrationResultOut(status: "ACCEPT" | "REJECT", reason: string | null, run: FlowRun) {
  return {
    status,
    details: status === "ACCEPT" ? { type: "accept_details" } : { type: "reject_details", reason },
    state: flowRunStateOut(run),
  };
}

export function concurrencyLimitOut(limit: ConcurrencyLimit, activeSlots: string[]) {
  return {
    id: limit.id,
    created: iso(limit.created),
    updated: iso(limit.updated),
    tag: limit.tag,
    concurrency_limit: limit.concurrencyLimit,
    active_slots: activeSlots,
  };
}
