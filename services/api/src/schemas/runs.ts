/** Request bodies about runs and deployments: states, schedules, deployment and flow-run creation. */
import { COLLISION_STRATEGIES, type StateName, stateTypeOf } from "@sluice/core";
import type { InitialState, ScheduleInput } from "@sluice/db";
import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { dateTime, jsonObject, stateName, stateType, tags, uuid } from "./common.js";

/** Prefect's StateCreate; a name must belong to the type ("Late" is a SCHEDULED state). */
export const stateCreate = z
  .object({
    type: stateType,
    name: stateName.nullish(),
    message: z.string().nullish(),
    data: z.unknown().optional(),
    state_details: z.object({ scheduled_time: dateTime.nullish() }).loose().nullish(),
  })
  .superRefine((state, ctx) => {
    if (state.name && stateTypeOf(state.name as StateName) !== state.type) {
      ctx.addIssue({
        code: "custom",
        path: ["name"],
        message: `State name '${state.name}' is not a ${state.type} state`,
      });
    }
  });
export type StateCreate = z.output<typeof stateCreate>;

export function initialStateOf(state: StateCreate): InitialState {
  return {
    type: state.type,
    name: (state.name ?? undefined) as StateName | undefined,
    message: state.message ?? null,
    scheduledTime: state.state_details?.scheduled_time ?? null,
  };
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezone = z
  .string()
  .refine(isTimeZone, { error: "Unknown time zone (use an IANA name such as 'America/New_York')" })
  .nullish();

const cronSchedule = z.object({
  cron: z.string().refine(
    (expression) => {
      try {
        CronExpressionParser.parse(expression);
        return true;
      } catch {
        return false;
      }
    },
    { error: "Invalid cron expression" },
  ),
  timezone,
  day_or: z.boolean().nullish(),
});

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Seconds, as a number or an ISO 8601 duration ("PT1H", "P1D"), like pydantic's timedelta. */
const intervalSeconds = z.union([
  z.number().positive(),
  z
    .string()
    .regex(ISO_DURATION, { error: "Input should be a valid duration (seconds or ISO 8601, e.g. PT1H)" })
    .transform((text) => {
      const [, d = "0", h = "0", m = "0", s = "0"] = ISO_DURATION.exec(text) ?? [];
      return Number(d) * 86_400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
    })
    .pipe(z.number().positive()),
]);

const intervalSchedule = z.object({
  interval: intervalSeconds,
  anchor_date: dateTime.nullish(),
  timezone,
});

const rruleSchedule = z.object({ rrule: z.string() }).transform((_value, ctx) => {
  ctx.addIssue({ code: "custom", message: "RRule schedules are not supported by Sluice: use cron or interval" });
  return z.NEVER;
});

export const scheduleCreate = z.object({
  schedule: z.union([cronSchedule, intervalSchedule, rruleSchedule]),
  active: z.boolean().nullish(),
  max_scheduled_runs: z.number().int().positive().nullish(),
  parameters: jsonObject.nullish(),
  slug: z.string().nullish(),
});

export function scheduleInputOf(schedule: z.output<typeof scheduleCreate>): ScheduleInput {
  const spec = schedule.schedule;
  const common = {
    active: schedule.active ?? true,
    parameters: schedule.parameters ?? {},
    slug: schedule.slug ?? null,
    timezone: spec.timezone ?? "UTC",
  };
  if ("cron" in spec) return { ...common, cron: spec.cron };
  return { ...common, intervalSeconds: spec.interval, anchorDate: spec.anchor_date ?? null };
}

/** Prefect's ConcurrencyOptions: what a run finding all of its deployment's slots taken does. */
export const concurrencyOptions = z.object({
  collision_strategy: z.enum(COLLISION_STRATEGIES, {
    error: `Input should be ${COLLISION_STRATEGIES.map((s) => `'${s}'`).join(" or ")}`,
  }),
});

/** The deployment fields PATCH accepts (DeploymentCreate has these plus name and flow_id). */
export const deploymentUpdate = z.object({
  paused: z.boolean().nullish(),
  schedules: z.array(scheduleCreate).nullish(),
  concurrency_limit: z.number().int().positive().nullish(),
  concurrency_options: concurrencyOptions.nullish(),
  description: z.string().nullish(),
  version: z.string().nullish(),
  tags: tags.nullish(),
  labels: jsonObject.nullish(),
  parameters: jsonObject.nullish(),
  parameter_openapi_schema: jsonObject.nullish(),
  entrypoint: z.string().nullish(),
  path: z.string().nullish(),
  pull_steps: z.array(z.unknown()).nullish(),
  storage_document_id: uuid.nullish(),
  infrastructure_document_id: uuid.nullish(),
  work_pool_name: z.string().min(1).nullish(),
  work_queue_name: z.string().min(1).nullish(),
  job_variables: jsonObject.nullish(),
  enforce_parameter_schema: z.boolean().nullish(),
});

export const deploymentCreate = deploymentUpdate.extend({
  name: z.string().min(1),
  flow_id: uuid,
});

/** Prefect's DeploymentFlowRunCreate (every field optional: no body at all is fine). */
export const deploymentFlowRunCreate = z.object({
  state: stateCreate.nullish(),
  name: z.string().min(1).nullish(),
  parameters: jsonObject.nullish(),
  enforce_parameter_schema: z.boolean().nullish(),
  context: jsonObject.nullish(),
  empirical_policy: jsonObject.nullish(),
  tags: tags.nullish(),
  idempotency_key: z.string().min(1).nullish(),
  parent_task_run_id: uuid.nullish(),
  work_queue_name: z.string().min(1).nullish(),
  job_variables: jsonObject.nullish(),
  labels: jsonObject.nullish(),
});

/** Prefect's FlowRunCreate. */
export const flowRunCreate = z.object({
  flow_id: uuid,
  name: z.string().min(1).nullish(),
  deployment_id: uuid.nullish(),
  state: stateCreate.nullish(),
  parameters: jsonObject.nullish(),
  context: jsonObject.nullish(),
  parent_task_run_id: uuid.nullish(),
  empirical_policy: jsonObject.nullish(),
  tags: tags.nullish(),
  idempotency_key: z.string().min(1).nullish(),
  work_pool_name: z.string().min(1).nullish(),
  work_queue_name: z.string().min(1).nullish(),
  labels: jsonObject.nullish(),
  flow_version: z.string().nullish(),
});

export const setStateBody = z.object({
  state: stateCreate,
  force: z.boolean().nullish(),
  orchestration_parameters: jsonObject.nullish(),
});
