/**
 * The Postgres schema (drizzle). Migrations in ../migrations are generated from this file by
 * drizzle-kit (`npm run db:generate`) and never edited by hand.
 *
 * There are deliberately no foreign keys from state history or logs to runs: events reach the
 * recorder in any order and may be replayed, and writing them must never fail because a row they
 * refer to has not arrived yet.
 */
import { COLLISION_STRATEGIES, STATE_TYPES } from "@sluice/core";
import {
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  json,
  pgEnum,
  pgTable,
  sql,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "./drizzle.js";

export const stateType = pgEnum("state_type", STATE_TYPES);
/** What a run of a deployment at its concurrency limit does: wait for a slot, or be cancelled. */
export const collisionStrategy = pgEnum("collision_strategy", COLLISION_STRATEGIES);

/**
 * A jsonb column whose value is read back as the driver parsed it. drizzle's own jsonb parses a
 * string value a second time, so a task that returned the string "42" (or "null") read back as the
 * number 42 (or null).
 */
const jsonb = customType<{ data: unknown; driverData: unknown }>({
  dataType: () => "jsonb",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => value,
});

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const created = () => timestamptz("created").notNull().defaultNow();
const updated = () => timestamptz("updated").notNull().defaultNow();
const tags = () => text("tags").array().notNull().default(sql`'{}'::text[]`);
const jsonObject = (name: string) => jsonb(name).$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`);

/** The current-state columns shared by flow runs and task runs (a copy of the newest applied state). */
const currentState = () => ({
  stateId: uuid("state_id"),
  stateType: stateType("state_type"),
  stateName: text("state_name"),
  stateTimestamp: timestamptz("state_timestamp"),
  stateMessage: text("state_message"),
});

/** Run timing columns shared by flow runs and task runs. */
const runTiming = () => ({
  expectedStartTime: timestamptz("expected_start_time"),
  /** When the run is due, while its current state is SCHEDULED. */
  nextScheduledStartTime: timestamptz("next_scheduled_start_time"),
  startTime: timestamptz("start_time"),
  endTime: timestamptz("end_time"),
  /** Seconds spent RUNNING, summed over attempts. */
  totalRunTime: doublePrecision("total_run_time").notNull().default(0),
  runCount: integer("run_count").notNull().default(0),
});

/** A state history table's columns (one row per transition, id = the state's id from the event). */
const stateHistoryColumns = () => ({
  type: stateType("type").notNull(),
  name: text("name").notNull(),
  timestamp: timestamptz("timestamp").notNull(),
  message: text("message"),
  /** COMPLETED: the result; FAILED/CRASHED: error details. */
  data: jsonb("data"),
  runCount: integer("run_count").notNull().default(0),
  /** For SCHEDULED states: when the run is due. */
  scheduledTime: timestamptz("scheduled_time"),
  /** The transition overrode the "terminal is final" rule (explicit retry). */
  force: boolean("force").notNull().default(false),
  created: created(),
});

export const flows = pgTable("flows", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  tags: tags(),
  created: created(),
  updated: updated(),
});

export const flowRuns = pgTable(
  "flow_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    flowId: uuid("flow_id").notNull(),
    deploymentId: uuid("deployment_id"),
    parentTaskRunId: uuid("parent_task_run_id"),
    parameters: jsonObject("parameters"),
    tags: tags(),
    ...runTiming(),
    ...currentState(),
    workPoolName: text("work_pool_name"),
    workQueueName: text("work_queue_name"),
    result: jsonb("result"),
    /** Given by the client: creating a run of the same deployment with the same key returns the first one. */
    idempotencyKey: text("idempotency_key"),
    /** Created by the scheduler from a deployment schedule (at most one per deployment and time). */
    autoScheduled: boolean("auto_scheduled").notNull().default(false),
    /** Prefect's FlowRunPolicy: { retries, retry_delay, … }. */
    empiricalPolicy: jsonObject("empirical_policy"),
    /** The OpenTelemetry trace the run executes in (hex trace id), when tracing is on and the run sampled. */
    traceId: text("trace_id"),
    created: created(),
    updated: updated(),
  },
  (t) => [
    index("flow_runs_flow_id_idx").on(t.flowId),
    index("flow_runs_state_type_idx").on(t.stateType),
    index("flow_runs_expected_start_time_idx").on(t.expectedStartTime.desc()),
    index("flow_runs_parent_task_run_id_idx").on(t.parentTaskRunId),
    index("flow_runs_deployment_id_idx").on(t.deploymentId),
    uniqueIndex("flow_runs_deployment_id_idempotency_key_unique")
      .on(t.deploymentId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} IS NOT NULL`),
    /** Two schedulers racing can never create the same scheduled run twice. */
    uniqueIndex("flow_runs_deployment_id_auto_scheduled_start_unique")
      .on(t.deploymentId, t.expectedStartTime)
      .where(sql`${t.autoScheduled}`),
    /** Scheduled runs by due time (late runs, the reconciler). */
    index("flow_runs_scheduled_next_start_idx").on(t.nextScheduledStartTime).where(sql`${t.stateType} = 'SCHEDULED'`),
  ],
);

export const flowRunStates = pgTable(
  "flow_run_states",
  {
    id: uuid("id").primaryKey(),
    flowRunId: uuid("flow_run_id").notNull(),
    ...stateHistoryColumns(),
  },
  (t) => [index("flow_run_states_flow_run_id_timestamp_idx").on(t.flowRunId, t.timestamp)],
);

export const taskRuns = pgTable(
  "task_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    flowRunId: uuid("flow_run_id"),
    taskKey: text("task_key").notNull(),
    dynamicKey: text("dynamic_key").notNull(),
    cacheKey: text("cache_key"),
    cacheExpiration: timestamptz("cache_expiration"),
    tags: tags(),
    taskInputs: jsonObject("task_inputs"),
    ...runTiming(),
    ...currentState(),
    result: jsonb("result"),
    created: created(),
    updated: updated(),
  },
  (t) => [
    index("task_runs_flow_run_id_idx").on(t.flowRunId),
    index("task_runs_state_type_idx").on(t.stateType),
    index("task_runs_expected_start_time_idx").on(t.expectedStartTime.desc()),
  ],
);

/**
 * Flow runs deleted through the API (not the never-started runs a pause withdraws), kept a day: the
 * recorder drops events about them still on their way (a worker's replay of the run's creation, the
 * states and task runs of its last moments), so a deleted run does not come back.
 */
export const deletedFlowRuns = pgTable("deleted_flow_runs", {
  id: uuid("id").primaryKey(),
  deleted: timestamptz("deleted").notNull().defaultNow(),
});

export const taskRunStates = pgTable(
  "task_run_states",
  {
    id: uuid("id").primaryKey(),
    taskRunId: uuid("task_run_id").notNull(),
    ...stateHistoryColumns(),
  },
  (t) => [index("task_run_states_task_run_id_timestamp_idx").on(t.taskRunId, t.timestamp)],
);

export const logs = pgTable(
  "logs",
  {
    id: uuid("id").primaryKey(),
    flowRunId: uuid("flow_run_id"),
    taskRunId: uuid("task_run_id"),
    name: text("name").notNull(),
    /** Prefect's numbers: DEBUG 10, INFO 20, WARNING 30, ERROR 40, CRITICAL 50. */
    level: integer("level").notNull(),
    message: text("message").notNull(),
    timestamp: timestamptz("timestamp").notNull(),
    created: created(),
  },
  (t) => [
    index("logs_flow_run_id_timestamp_idx").on(t.flowRunId, t.timestamp),
    index("logs_task_run_id_timestamp_idx").on(t.taskRunId, t.timestamp),
  ],
);

export const taskCache = pgTable("task_cache", {
  cacheKey: text("cache_key").primaryKey(),
  taskRunId: uuid("task_run_id").notNull(),
  /**
   * json, not jsonb: a result is stored and read back whole, never queried into, and an ETL
   * step's batch is megabytes: Postgres only checks json text, where jsonb would rebuild it (2-3×
   * the time, measured on a 3.7 MB batch). Compressed with lz4 where the server has it (migration 0006).
   */
  result: json("result"),
  expiresAt: timestamptz("expires_at"),
  /** When the result was cached (the event's timestamp); a newer entry replaces an older one. */
  created: created(),
});

export const deployments = pgTable(
  "deployments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    flowId: uuid("flow_id")
      .notNull()
      .references(() => flows.id, { onDelete: "cascade" }),
    entrypoint: text("entrypoint"),
    parameters: jsonObject("parameters"),
    parameterSchema: jsonb("parameter_schema").$type<Record<string, unknown>>(),
    tags: tags(),
    workPoolName: text("work_pool_name"),
    workQueueName: text("work_queue_name"),
    paused: boolean("paused").notNull().default(false),
    concurrencyLimit: integer("concurrency_limit"),
    /** Prefect's concurrency_options.collision_strategy (null: not given, ENQUEUE applies). */
    collisionStrategy: collisionStrategy("collision_strategy"),
    description: text("description"),
    version: text("version"),
    /** Whether runs' parameters are validated against parameter_schema (Prefect's default: yes). */
    enforceParameterSchema: boolean("enforce_parameter_schema").notNull().default(true),
    jobVariables: jsonObject("job_variables"),
    created: created(),
    updated: updated(),
  },
  (t) => [unique("deployments_flow_id_name_unique").on(t.flowId, t.name), index("deployments_name_idx").on(t.name)],
);

export const deploymentSchedules = pgTable(
  "deployment_schedules",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    deploymentId: uuid("deployment_id")
      .notNull()
      .references(() => deployments.id, { onDelete: "cascade" }),
    /** A cron schedule has `cron`; an interval schedule has `interval_seconds` (and maybe `anchor_date`). */
    cron: text("cron"),
    intervalSeconds: doublePrecision("interval_seconds"),
    anchorDate: timestamptz("anchor_date"),
    timezone: text("timezone").notNull().default("UTC"),
    active: boolean("active").notNull().default(true),
    /** Parameters of this schedule's runs, over the deployment's. */
    parameters: jsonObject("parameters"),
    slug: text("slug"),
    created: created(),
    updated: updated(),
  },
  (t) => [
    index("deployment_schedules_deployment_id_idx").on(t.deploymentId),
    check("deployment_schedules_one_kind", sql`(${t.cron} IS NULL) <> (${t.intervalSeconds} IS NULL)`),
    check("deployment_schedules_interval_positive", sql`${t.intervalSeconds} IS NULL OR ${t.intervalSeconds} > 0`),
  ],
);

export const workPools = pgTable("work_pools", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  type: text("type").notNull().default("process"),
  concurrencyLimit: integer("concurrency_limit"),
  paused: boolean("paused").notNull().default(false),
  description: text("description"),
  baseJobTemplate: jsonObject("base_job_template"),
  created: created(),
  updated: updated(),
});

/** Prefect's work pool queues: a pool has a "default" queue and maybe more, by priority. */
export const workQueues = pgTable(
  "work_queues",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workPoolId: uuid("work_pool_id")
      .notNull()
      .references(() => workPools.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    description: text("description"),
    concurrencyLimit: integer("concurrency_limit"),
    /** 1 is the highest priority. */
    priority: integer("priority").notNull().default(1),
    paused: boolean("paused").notNull().default(false),
    lastPolled: timestamptz("last_polled"),
    created: created(),
    updated: updated(),
  },
  (t) => [unique("work_queues_work_pool_id_name_unique").on(t.workPoolId, t.name)],
);

/** Workers seen polling a pool, by the heartbeats they send. */
export const workers = pgTable(
  "workers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    workPoolId: uuid("work_pool_id")
      .notNull()
      .references(() => workPools.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    lastHeartbeatTime: timestamptz("last_heartbeat_time").notNull().defaultNow(),
    heartbeatIntervalSeconds: integer("heartbeat_interval_seconds"),
    /** ONLINE when it last sent a heartbeat; readers treat a stale heartbeat as OFFLINE. */
    status: text("status").notNull().default("ONLINE"),
    created: created(),
    updated: updated(),
  },
  (t) => [unique("workers_work_pool_id_name_unique").on(t.workPoolId, t.name)],
);

export const concurrencyLimits = pgTable("concurrency_limits", {
  id: uuid("id").primaryKey().defaultRandom(),
  tag: text("tag").notNull().unique(),
  concurrencyLimit: integer("concurrency_limit").notNull(),
  created: created(),
  updated: updated(),
});

/**
 * Queued task runs' arguments and results too large to travel in their BullMQ job (over
 * SLUICE_INLINE_PAYLOAD_BYTES of JSON): the job carries a reference to the row instead. Workers
 * write and read these rows directly, by key, the one exception to "workers only touch Redis",
 * so that large payloads sit on disk rather than in Redis memory. A row is deleted once the
 * awaiting flow has read it, or after it expires.
 */
export const taskRunPayloads = pgTable(
  "task_run_payloads",
  {
    /** "task-run/<task run id>/args" or "…/result". */
    key: text("key").primaryKey(),
    /** The JSON text as written (text, not jsonb: stored and returned as is, never parsed here; lz4, migration 0006). */
    value: text("value").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    created: created(),
  },
  (t) => [index("task_run_payloads_expires_at_idx").on(t.expiresAt)],
);

export type Flow = typeof flows.$inferSelect;
export type FlowRun = typeof flowRuns.$inferSelect;
export type FlowRunState = typeof flowRunStates.$inferSelect;
export type TaskRun = typeof taskRuns.$inferSelect;
export type TaskRunState = typeof taskRunStates.$inferSelect;
export type Log = typeof logs.$inferSelect;
export type TaskCacheEntry = typeof taskCache.$inferSelect;
export type Deployment = typeof deployments.$inferSelect;
export type DeploymentSchedule = typeof deploymentSchedules.$inferSelect;
export type WorkPool = typeof workPools.$inferSelect;
export type WorkQueue = typeof workQueues.$inferSelect;
export type Worker = typeof workers.$inferSelect;
export type ConcurrencyLimit = typeof concurrencyLimits.$inferSelect;
export type TaskRunPayload = typeof taskRunPayloads.$inferSelect;
