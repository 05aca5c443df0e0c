/**
 * Prefect's filter bodies (`POST /…/filter` and `/…/count`): one object per resource
 * (`flows`, `flow_runs`, `task_runs`, `deployments`, `work_pools`, `logs`), each a set of
 * criteria combined with `operator` (and_ by default). Fields a Prefect client sends as null are
 * accepted; criteria Sluice does not implement are refused unless null.
 */
import { z } from "zod";
import { criteria, dateTime, operator, pagination, stateName, stateType, uuid } from "./common.js";

const strings = z.array(z.string()).nullish();
const ids = z.array(uuid).nullish();
const timeRange = criteria({
  before_: dateTime.nullish(),
  after_: dateTime.nullish(),
  is_null_: z.boolean().nullish(),
});
const tagCriteria = criteria({ operator, all_: strings, any_: strings, is_null_: z.boolean().nullish() });

export const flowFilter = criteria({
  operator,
  id: criteria({ any_: ids, not_any_: ids }),
  name: criteria({ any_: strings, like_: z.string().nullish() }),
  tags: tagCriteria,
});

export const flowRunFilter = criteria({
  operator,
  id: criteria({ any_: ids, not_any_: ids }),
  name: criteria({ any_: strings, like_: z.string().nullish() }),
  tags: tagCriteria,
  deployment_id: criteria({ operator, any_: ids, is_null_: z.boolean().nullish() }),
  work_queue_name: criteria({ operator, any_: strings, is_null_: z.boolean().nullish() }),
  state: criteria({
    operator,
    type: criteria({ any_: z.array(stateType).nullish(), not_any_: z.array(stateType).nullish() }),
    name: criteria({ any_: z.array(stateName).nullish(), not_any_: z.array(stateName).nullish() }),
  }),
  start_time: timeRange,
  end_time: timeRange,
  expected_start_time: timeRange,
  next_scheduled_start_time: timeRange,
  parent_task_run_id: criteria({ operator, any_: ids, is_null_: z.boolean().nullish() }),
  parent_flow_run_id: criteria({ operator, any_: ids }),
  idempotency_key: criteria({ any_: strings, not_any_: strings }),
});

export const taskRunFilter = criteria({
  operator,
  id: criteria({ any_: ids, not_any_: ids }),
  name: criteria({ any_: strings, like_: z.string().nullish() }),
  tags: tagCriteria,
  state: criteria({
    operator,
    type: criteria({ any_: z.array(stateType).nullish(), not_any_: z.array(stateType).nullish() }),
    name: criteria({ any_: z.array(stateName).nullish(), not_any_: z.array(stateName).nullish() }),
  }),
  start_time: timeRange,
  expected_start_time: timeRange,
  flow_run_id: criteria({ operator, any_: ids, is_null_: z.boolean().nullish() }),
});

export const deploymentFilter = criteria({
  operator,
  id: criteria({ any_: ids, not_any_: ids }),
  name: criteria({ any_: strings, like_: z.string().nullish() }),
  flow_or_deployment_name: criteria({ like_: z.string().nullish() }),
  paused: criteria({ eq_: z.boolean().nullish() }),
  tags: tagCriteria,
  work_queue_name: criteria({ any_: strings }),
});

export const workPoolFilter = criteria({
  operator,
  id: criteria({ any_: ids }),
  name: criteria({ any_: strings }),
  type: criteria({ any_: strings }),
});

export const workQueueFilter = criteria({
  operator,
  id: criteria({ any_: ids }),
  name: criteria({ any_: strings, startswith_: strings }),
});

export const logFilter = criteria({
  operator,
  level: criteria({ ge_: z.number().int().nullish(), le_: z.number().int().nullish() }),
  timestamp: criteria({ before_: dateTime.nullish(), after_: dateTime.nullish() }),
  flow_run_id: criteria({ any_: ids }),
  task_run_id: criteria({ any_: ids, is_null_: z.boolean().nullish() }),
  /** Log lines whose message contains `query`, ignoring case (the UI's log search). */
  text: criteria({ query: z.string().max(200).nullish() }),
});

export const workerFilter = criteria({
  operator,
  last_heartbeat_time: criteria({ before_: dateTime.nullish(), after_: dateTime.nullish() }),
  status: criteria({ any_: strings, not_any_: strings }),
});

export type FlowFilter = NonNullable<z.output<typeof flowFilter>>;
export type FlowRunFilter = NonNullable<z.output<typeof flowRunFilter>>;
export type TaskRunFilter = NonNullable<z.output<typeof taskRunFilter>>;
export type DeploymentFilter = NonNullable<z.output<typeof deploymentFilter>>;
export type WorkPoolFilter = NonNullable<z.output<typeof workPoolFilter>>;
export type WorkQueueFilter = NonNullable<z.output<typeof workQueueFilter>>;
export type LogFilter = NonNullable<z.output<typeof logFilter>>;
export type WorkerFilter = NonNullable<z.output<typeof workerFilter>>;

/** The criteria every run-centred filter body accepts (how the resources relate is in queries/). */
const relatedFilters = {
  flows: flowFilter,
  flow_runs: flowRunFilter,
  task_runs: taskRunFilter,
  deployments: deploymentFilter,
  work_pools: workPoolFilter,
  work_pool_queues: workQueueFilter,
};

export const FLOW_RUN_SORTS = [
  "ID_DESC",
  "START_TIME_ASC",
  "START_TIME_DESC",
  "EXPECTED_START_TIME_ASC",
  "EXPECTED_START_TIME_DESC",
  "NAME_ASC",
  "NAME_DESC",
  "NEXT_SCHEDULED_START_TIME_ASC",
  "END_TIME_DESC",
] as const;
export const TASK_RUN_SORTS = [
  "ID_DESC",
  "EXPECTED_START_TIME_ASC",
  "EXPECTED_START_TIME_DESC",
  "NAME_ASC",
  "NAME_DESC",
  "NEXT_SCHEDULED_START_TIME_ASC",
  "END_TIME_DESC",
] as const;
export const DEPLOYMENT_SORTS = ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"] as const;
export const FLOW_SORTS = ["CREATED_DESC", "UPDATED_DESC", "NAME_ASC", "NAME_DESC"] as const;
export const LOG_SORTS = ["TIMESTAMP_ASC", "TIMESTAMP_DESC"] as const;

export const relatedFilterBody = z.object(relatedFilters);
export type RelatedFilters = z.output<typeof relatedFilterBody>;

export const flowRunFilterBody = relatedFilterBody.extend({
  sort: z.enum(FLOW_RUN_SORTS).nullish(),
  ...pagination,
});
export const taskRunFilterBody = relatedFilterBody.extend({
  sort: z.enum(TASK_RUN_SORTS).nullish(),
  ...pagination,
});
export const deploymentFilterBody = relatedFilterBody.extend({
  sort: z.enum(DEPLOYMENT_SORTS).nullish(),
  ...pagination,
});
export const flowFilterBody = relatedFilterBody.extend({
  sort: z.enum(FLOW_SORTS).nullish(),
  ...pagination,
});
export const logFilterBody = z.object({
  logs: logFilter,
  sort: z.enum(LOG_SORTS).nullish(),
  ...pagination,
});
export const workPoolFilterBody = z.object({ work_pools: workPoolFilter, ...pagination });
export const workQueueFilterBody = z.object({ work_queues: workQueueFilter, ...pagination });
export const workerFilterBody = z.object({ workers: workerFilter, ...pagination });
