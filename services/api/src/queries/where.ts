/**
 * Prefect filter criteria → SQL conditions. Each resource's criteria become a condition on its
 * table; criteria on a related resource become `IN (subquery)` through the relation (a flow run's
 * flow, deployment, task runs, work pool), as Prefect's server does.
 */
import {
  and,
  arrayContains,
  arrayOverlaps,
  deployments,
  eq,
  flowRuns,
  flows,
  gte,
  ilike,
  inArray,
  isNull,
  logs,
  lte,
  notInArray,
  or,
  sql,
  taskRuns,
  workPools,
  workQueues,
} from "@sluice/db";
import type { Column, SQL } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import type {
  DeploymentFilter,
  FlowFilter,
  FlowRunFilter,
  LogFilter,
  RelatedFilters,
  TaskRunFilter,
  WorkPoolFilter,
} from "../schemas/filters.js";

type Maybe<T> = T | null | undefined;
type Operator = Maybe<"and_" | "or_">;

/** Combines conditions (undefined ones are no condition); an empty `or_` is no condition either. */
export function combine(operator: Operator, conditions: (SQL | undefined)[]): SQL | undefined {
  const present = conditions.filter((c): c is SQL => c !== undefined);
  if (present.length === 0) return undefined;
  return operator === "or_" ? or(...present) : and(...present);
}

const given = <T>(value: Maybe<T>): value is T => value !== null && value !== undefined;

function anyOf(column: Column, values: Maybe<unknown[]>): SQL | undefined {
  return given(values) ? inArray(column, values) : undefined;
}

function noneOf(column: Column, values: Maybe<unknown[]>): SQL | undefined {
  if (!given(values) || values.length === 0) return undefined;
  return or(isNull(column), notInArray(column, values));
}

function nullness(column: Column, isNullWanted: Maybe<boolean>): SQL | undefined {
  if (!given(isNullWanted)) return undefined;
  return isNullWanted ? isNull(column) : sql`${column} IS NOT NULL`;
}

/** The values containing `text` as typed (no wildcards), ignoring case; a blank text is no condition. */
function containing(column: Column, text: Maybe<string>): SQL | undefined {
  if (!given(text) || text.trim() === "") return undefined;
  return ilike(column, `%${text.trim().replace(/[\\%_]/g, "\\$&")}%`);
}

/** Prefect's like_ matches anywhere in the value, case-insensitively. */
function like(column: Column, pattern: Maybe<string>): SQL | undefined {
  return given(pattern) ? ilike(column, `%${pattern}%`) : undefined;
}

function timeRange(
  column: Column,
  range: Maybe<{ before_?: Maybe<Date>; after_?: Maybe<Date>; is_null_?: Maybe<boolean> }>,
): SQL | undefined {
  if (!given(range)) return undefined;
  return combine("and_", [
    given(range.before_) ? lte(column, range.before_) : undefined,
    given(range.after_) ? gte(column, range.after_) : undefined,
    nullness(column, range.is_null_),
  ]);
}

function tagCriteria(
  column: Column,
  tags: Maybe<{ operator?: Operator; all_?: Maybe<string[]>; any_?: Maybe<string[]>; is_null_?: Maybe<boolean> }>,
): SQL | undefined {
  if (!given(tags)) return undefined;
  return combine(tags.operator, [
    given(tags.all_) ? arrayContains(column, tags.all_) : undefined,
    given(tags.any_) ? arrayOverlaps(column, tags.any_) : undefined,
    given(tags.is_null_)
      ? tags.is_null_
        ? sql`cardinality(${column}) = 0`
        : sql`cardinality(${column}) > 0`
      : undefined,
  ]);
}

type IdsOrNull = Maybe<{ operator?: Operator; any_?: Maybe<unknown[]>; is_null_?: Maybe<boolean> }>;

/** Prefect's `{any_, is_null_}` criteria on a nullable column (a deployment id, a parent run…). */
function anyOrNull(column: Column, criteria: IdsOrNull): SQL | undefined {
  if (!given(criteria)) return undefined;
  return combine(criteria.operator, [anyOf(column, criteria.any_), nullness(column, criteria.is_null_)]);
}

type AnyOrNone = Maybe<{ any_?: Maybe<unknown[]>; not_any_?: Maybe<unknown[]> }>;
type StateCriteria = Maybe<{ operator?: Operator; type?: AnyOrNone; name?: AnyOrNone }>;

/** A run's current state by type and name (flow runs and task runs alike). */
function stateWhere(table: { stateType: Column; stateName: Column }, state: StateCriteria): SQL | undefined {
  if (!given(state)) return undefined;
  return combine(state.operator, [
    anyOf(table.stateType, state.type?.any_),
    noneOf(table.stateType, state.type?.not_any_),
    anyOf(table.stateName, state.name?.any_),
    noneOf(table.stateName, state.name?.not_any_),
  ]);
}

/** `column IN (SELECT selected FROM table WHERE condition)`, or nothing without a condition. */
export function inSubquery(column: Column, selected: Column, table: PgTable, condition: SQL | undefined) {
  return condition === undefined ? undefined : sql`${column} IN (SELECT ${selected} FROM ${table} WHERE ${condition})`;
}

export function flowWhere(filter: Maybe<FlowFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  return combine(filter.operator, [
    anyOf(flows.id, filter.id?.any_),
    noneOf(flows.id, filter.id?.not_any_),
    anyOf(flows.name, filter.name?.any_),
    like(flows.name, filter.name?.like_),
    tagCriteria(flows.tags, filter.tags),
  ]);
}

export function flowRunWhere(filter: Maybe<FlowRunFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  return combine(filter.operator, [
    anyOf(flowRuns.id, filter.id?.any_),
    noneOf(flowRuns.id, filter.id?.not_any_),
    anyOf(flowRuns.name, filter.name?.any_),
    like(flowRuns.name, filter.name?.like_),
    tagCriteria(flowRuns.tags, filter.tags),
    anyOrNull(flowRuns.deploymentId, filter.deployment_id),
    anyOrNull(flowRuns.workQueueName, filter.work_queue_name),
    stateWhere(flowRuns, filter.state),
    timeRange(flowRuns.startTime, filter.start_time),
    timeRange(flowRuns.endTime, filter.end_time),
    timeRange(flowRuns.expectedStartTime, filter.expected_start_time),
    timeRange(flowRuns.nextScheduledStartTime, filter.next_scheduled_start_time),
    anyOrNull(flowRuns.parentTaskRunId, filter.parent_task_run_id),
    inSubquery(
      flowRuns.parentTaskRunId,
      taskRuns.id,
      taskRuns,
      anyOf(taskRuns.flowRunId, filter.parent_flow_run_id?.any_),
    ),
    anyOf(flowRuns.idempotencyKey, filter.idempotency_key?.any_),
    noneOf(flowRuns.idempotencyKey, filter.idempotency_key?.not_any_),
  ]);
}

export function taskRunWhere(filter: Maybe<TaskRunFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  return combine(filter.operator, [
    anyOf(taskRuns.id, filter.id?.any_),
    noneOf(taskRuns.id, filter.id?.not_any_),
    anyOf(taskRuns.name, filter.name?.any_),
    like(taskRuns.name, filter.name?.like_),
    tagCriteria(taskRuns.tags, filter.tags),
    stateWhere(taskRuns, filter.state),
    timeRange(taskRuns.startTime, filter.start_time),
    timeRange(taskRuns.expectedStartTime, filter.expected_start_time),
    anyOrNull(taskRuns.flowRunId, filter.flow_run_id),
  ]);
}

export function deploymentWhere(filter: Maybe<DeploymentFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  const either = filter.flow_or_deployment_name?.like_;
  return combine(filter.operator, [
    anyOf(deployments.id, filter.id?.any_),
    noneOf(deployments.id, filter.id?.not_any_),
    anyOf(deployments.name, filter.name?.any_),
    like(deployments.name, filter.name?.like_),
    given(either)
      ? or(like(deployments.name, either), inSubquery(deployments.flowId, flows.id, flows, like(flows.name, either)))
      : undefined,
    given(filter.paused?.eq_) ? eq(deployments.paused, filter.paused.eq_) : undefined,
    tagCriteria(deployments.tags, filter.tags),
    anyOf(deployments.workQueueName, filter.work_queue_name?.any_),
  ]);
}

export function workPoolWhere(filter: Maybe<WorkPoolFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  return combine(filter.operator, [
    anyOf(workPools.id, filter.id?.any_),
    anyOf(workPools.name, filter.name?.any_),
    anyOf(workPools.type, filter.type?.any_),
  ]);
}

export function logWhere(filter: Maybe<LogFilter>): SQL | undefined {
  if (!given(filter)) return undefined;
  return combine(filter.operator, [
    given(filter.level?.ge_) ? gte(logs.level, filter.level.ge_) : undefined,
    given(filter.level?.le_) ? lte(logs.level, filter.level.le_) : undefined,
    timeRange(logs.timestamp, filter.timestamp),
    anyOf(logs.flowRunId, filter.flow_run_id?.any_),
    anyOf(logs.taskRunId, filter.task_run_id?.any_),
    nullness(logs.taskRunId, filter.task_run_id?.is_null_),
    containing(logs.message, filter.text?.query),
  ]);
}

/** The flow runs a filter body selects, as a condition on flow_runs (criteria on every related resource). */
export function flowRunsSelectedBy(body: RelatedFilters): SQL | undefined {
  return combine("and_", [
    flowRunWhere(body.flow_runs),
    inSubquery(flowRuns.flowId, flows.id, flows, flowWhere(body.flows)),
    inSubquery(flowRuns.deploymentId, deployments.id, deployments, deploymentWhere(body.deployments)),
    inSubquery(flowRuns.id, taskRuns.flowRunId, taskRuns, taskRunWhere(body.task_runs)),
    inSubquery(flowRuns.workPoolName, workPools.name, workPools, workPoolWhere(body.work_pools)),
    workQueueNames(flowRuns.workQueueName, body),
  ]);
}

/** The task runs a filter body selects. */
export function taskRunsSelectedBy(body: RelatedFilters): SQL | undefined {
  const runCriteria = combine("and_", [
    flowRunWhere(body.flow_runs),
    inSubquery(flowRuns.flowId, flows.id, flows, flowWhere(body.flows)),
    inSubquery(flowRuns.deploymentId, deployments.id, deployments, deploymentWhere(body.deployments)),
  ]);
  return combine("and_", [
    taskRunWhere(body.task_runs),
    inSubquery(taskRuns.flowRunId, flowRuns.id, flowRuns, runCriteria),
  ]);
}

/** The deployments a filter body selects. */
export function deploymentsSelectedBy(body: RelatedFilters): SQL | undefined {
  return combine("and_", [
    deploymentWhere(body.deployments),
    inSubquery(deployments.flowId, flows.id, flows, flowWhere(body.flows)),
    inSubquery(deployments.id, flowRuns.deploymentId, flowRuns, flowRunWhere(body.flow_runs)),
    inSubquery(deployments.workPoolName, workPools.name, workPools, workPoolWhere(body.work_pools)),
    workQueueNames(deployments.workQueueName, body),
  ]);
}

/** The flows a filter body selects. */
export function flowsSelectedBy(body: RelatedFilters): SQL | undefined {
  return combine("and_", [
    flowWhere(body.flows),
    inSubquery(flows.id, flowRuns.flowId, flowRuns, flowRunWhere(body.flow_runs)),
    inSubquery(flows.id, deployments.flowId, deployments, deploymentWhere(body.deployments)),
    inSubquery(
      flows.id,
      flowRuns.flowId,
      flowRuns,
      inSubquery(flowRuns.id, taskRuns.flowRunId, taskRuns, taskRunWhere(body.task_runs)),
    ),
  ]);
}

/** work_pool_queues criteria by queue name (queues are named within their pool). */
function workQueueNames(column: Column, body: RelatedFilters): SQL | undefined {
  const queues = body.work_pool_queues;
  if (!given(queues)) return undefined;
  return combine(queues.operator, [
    anyOf(column, queues.name?.any_),
    given(queues.name?.startswith_) && queues.name.startswith_.length > 0
      ? or(...queues.name.startswith_.map((prefix) => sql`starts_with(${column}, ${prefix})`))
      : undefined,
    inSubquery(column, workQueues.name, workQueues, anyOf(workQueues.id, queues.id?.any_)),
  ]);
}
