/**
 * The filter endpoints' queries: the rows a filter body selects, in Prefect's sort orders (with
 * the id as a tie-breaker so pages never overlap), paginated, and their counts.
 */
import {
  type AnySluiceDb,
  asc,
  type DeploymentWithSchedules,
  deployments,
  desc,
  type Flow,
  type FlowRun,
  flowRuns,
  flows,
  getDeployments,
  type Log,
  logs,
  sql,
  type TaskRun,
  taskRuns,
} from "@sluice/db";
import type { SQL } from "drizzle-orm";
import { MAX_LIMIT } from "../schemas/common.js";
import type {
  DEPLOYMENT_SORTS,
  FLOW_RUN_SORTS,
  FLOW_SORTS,
  LOG_SORTS,
  LogFilter,
  RelatedFilters,
  TASK_RUN_SORTS,
} from "../schemas/filters.js";
import { deploymentsSelectedBy, flowRunsSelectedBy, flowsSelectedBy, logWhere, taskRunsSelectedBy } from "./where.js";

export interface Page {
  limit?: number | null;
  offset?: number | null;
}

const limitOf = (page: Page) => page.limit ?? MAX_LIMIT;
const offsetOf = (page: Page) => page.offset ?? 0;

const FLOW_RUN_ORDER: Record<(typeof FLOW_RUN_SORTS)[number], SQL[]> = {
  ID_DESC: [desc(flowRuns.id)],
  START_TIME_ASC: [asc(sql`coalesce(${flowRuns.startTime}, ${flowRuns.expectedStartTime})`), asc(flowRuns.id)],
  START_TIME_DESC: [desc(sql`coalesce(${flowRuns.startTime}, ${flowRuns.expectedStartTime})`), desc(flowRuns.id)],
  EXPECTED_START_TIME_ASC: [asc(flowRuns.expectedStartTime), asc(flowRuns.id)],
  EXPECTED_START_TIME_DESC: [desc(flowRuns.expectedStartTime), desc(flowRuns.id)],
  NAME_ASC: [asc(flowRuns.name), asc(flowRuns.id)],
  NAME_DESC: [desc(flowRuns.name), desc(flowRuns.id)],
  NEXT_SCHEDULED_START_TIME_ASC: [asc(flowRuns.nextScheduledStartTime), asc(flowRuns.id)],
  END_TIME_DESC: [desc(flowRuns.endTime), desc(flowRuns.id)],
};

const TASK_RUN_ORDER: Record<(typeof TASK_RUN_SORTS)[number], SQL[]> = {
  ID_DESC: [desc(taskRuns.id)],
  EXPECTED_START_TIME_ASC: [asc(taskRuns.expectedStartTime), asc(taskRuns.id)],
  EXPECTED_START_TIME_DESC: [desc(taskRuns.expectedStartTime), desc(taskRuns.id)],
  NAME_ASC: [asc(taskRuns.name), asc(taskRuns.id)],
  NAME_DESC: [desc(taskRuns.name), desc(taskRuns.id)],
  NEXT_SCHEDULED_START_TIME_ASC: [asc(taskRuns.nextScheduledStartTime), asc(taskRuns.id)],
  END_TIME_DESC: [desc(taskRuns.endTime), desc(taskRuns.id)],
};

const DEPLOYMENT_ORDER: Record<(typeof DEPLOYMENT_SORTS)[number], SQL[]> = {
  CREATED_DESC: [desc(deployments.created), desc(deployments.id)],
  UPDATED_DESC: [desc(deployments.updated), desc(deployments.id)],
  NAME_ASC: [asc(deployments.name), asc(deployments.id)],
  NAME_DESC: [desc(deployments.name), desc(deployments.id)],
};

const FLOW_ORDER: Record<(typeof FLOW_SORTS)[number], SQL[]> = {
  CREATED_DESC: [desc(flows.created), desc(flows.id)],
  UPDATED_DESC: [desc(flows.updated), desc(flows.id)],
  NAME_ASC: [asc(flows.name), asc(flows.id)],
  NAME_DESC: [desc(flows.name), desc(flows.id)],
};

const LOG_ORDER: Record<(typeof LOG_SORTS)[number], SQL[]> = {
  TIMESTAMP_ASC: [asc(logs.timestamp), asc(logs.id)],
  TIMESTAMP_DESC: [desc(logs.timestamp), desc(logs.id)],
};

export async function listFlowRunsBy(
  db: AnySluiceDb,
  body: RelatedFilters & Page & { sort?: keyof typeof FLOW_RUN_ORDER | null },
): Promise<FlowRun[]> {
  return db
    .select()
    .from(flowRuns)
    .where(flowRunsSelectedBy(body))
    .orderBy(...FLOW_RUN_ORDER[body.sort ?? "ID_DESC"])
    .limit(limitOf(body))
    .offset(offsetOf(body));
}

export function countFlowRunsBy(db: AnySluiceDb, body: RelatedFilters): Promise<number> {
  return db.$count(flowRuns, flowRunsSelectedBy(body));
}

export async function listTaskRunsBy(
  db: AnySluiceDb,
  body: RelatedFilters & Page & { sort?: keyof typeof TASK_RUN_ORDER | null },
): Promise<TaskRun[]> {
  return db
    .select()
    .from(taskRuns)
    .where(taskRunsSelectedBy(body))
    .orderBy(...TASK_RUN_ORDER[body.sort ?? "ID_DESC"])
    .limit(limitOf(body))
    .offset(offsetOf(body));
}

export function countTaskRunsBy(db: AnySluiceDb, body: RelatedFilters): Promise<number> {
  return db.$count(taskRuns, taskRunsSelectedBy(body));
}

export async function listDeploymentsBy(
  db: AnySluiceDb,
  body: RelatedFilters & Page & { sort?: keyof typeof DEPLOYMENT_ORDER | null },
): Promise<DeploymentWithSchedules[]> {
  const rows = await db
    .select({ id: deployments.id })
    .from(deployments)
    .where(deploymentsSelectedBy(body))
    .orderBy(...DEPLOYMENT_ORDER[body.sort ?? "NAME_ASC"])
    .limit(limitOf(body))
    .offset(offsetOf(body));
  return getDeployments(
    db,
    rows.map((r) => r.id),
  );
}

export function countDeploymentsBy(db: AnySluiceDb, body: RelatedFilters): Promise<number> {
  return db.$count(deployments, deploymentsSelectedBy(body));
}

export async function listFlowsBy(
  db: AnySluiceDb,
  body: RelatedFilters & Page & { sort?: keyof typeof FLOW_ORDER | null },
): Promise<Flow[]> {
  return db
    .select()
    .from(flows)
    .where(flowsSelectedBy(body))
    .orderBy(...FLOW_ORDER[body.sort ?? "NAME_ASC"])
    .limit(limitOf(body))
    .offset(offsetOf(body));
}

export function countFlowsBy(db: AnySluiceDb, body: RelatedFilters): Promise<number> {
  return db.$count(flows, flowsSelectedBy(body));
}

export async function listLogsBy(
  db: AnySluiceDb,
  body: { logs?: LogFilter | null; sort?: keyof typeof LOG_ORDER | null } & Page,
): Promise<Log[]> {
  return db
    .select()
    .from(logs)
    .where(logWhere(body.logs))
    .orderBy(...LOG_ORDER[body.sort ?? "TIMESTAMP_ASC"])
    .limit(limitOf(body))
    .offset(offsetOf(body));
}
