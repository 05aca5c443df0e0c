/**
 * /api/deployments: upsert by (flow, name), read by id or "flow/deployment" name, filter, count,
 * update, pause/resume, delete, and create_flow_run (parameters merged over the deployment's and
 * checked against its schema; the run is written, then enqueued on the deployment's work pool).
 */
import { deploymentLimitKey, InvalidInputError, ParameterValidationError } from "@sluice/core";
import {
  type CreatedFlowRun,
  createDeploymentFlowRun,
  DeploymentChangedError,
  type DeploymentFields,
  type DeploymentRunRequest,
  type DeploymentSummary,
  type DeploymentWithSchedules,
  deleteDeployment,
  getDeployment,
  getDeploymentByName,
  getFlow,
  getVersionedDeploymentSummary,
  setDeploymentPaused,
  updateDeployment,
  upsertDeployment,
  type VersionedDeploymentSummary,
} from "@sluice/db";
import { currentTraceId } from "@sluice/telemetry";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { HttpError, notFound } from "../http/errors.js";
import { countDeploymentsBy, listDeploymentsBy } from "../queries/lists.js";
import { idParams, optionalBody } from "../schemas/common.js";
import { deploymentFilterBody, relatedFilterBody } from "../schemas/filters.js";
import {
  deploymentCreate,
  deploymentFlowRunCreate,
  deploymentUpdate,
  initialStateOf,
  scheduleInputOf,
} from "../schemas/runs.js";
import { deploymentOut, flowRunOut } from "../serializers.js";

type DeploymentUpdateBody = z.output<typeof deploymentUpdate>;

/** Body fields → repository fields (absent or null leave a field as it is, like Prefect's exclude_unset). */
function fieldsOf(body: DeploymentUpdateBody): DeploymentFields {
  const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;
  return {
    entrypoint: orUndefined(body.entrypoint),
    parameters: orUndefined(body.parameters),
    parameterSchema: orUndefined(body.parameter_openapi_schema),
    tags: orUndefined(body.tags),
    workPoolName: orUndefined(body.work_pool_name),
    workQueueName: orUndefined(body.work_queue_name),
    paused: orUndefined(body.paused),
    concurrencyLimit: body.concurrency_limit,
    // Like the limit: null clears it, absent leaves it.
    collisionStrategy:
      body.concurrency_options === undefined ? undefined : (body.concurrency_options?.collision_strategy ?? null),
    description: orUndefined(body.description),
    version: orUndefined(body.version),
    enforceParameterSchema: orUndefined(body.enforce_parameter_schema),
    jobVariables: orUndefined(body.job_variables),
    schedules: body.schedules?.map(scheduleInputOf),
  };
}

export function deploymentRoutes(app: ZodApp, ctx: ApiContext): void {
  /** Deployments as Prefect shows them, with the slots of their concurrency limits in use. */
  const deploymentsOut = async (deployments: DeploymentWithSchedules[]) => {
    const limited = deployments.filter((d) => d.concurrencyLimit !== null).map((d) => deploymentLimitKey(d.id));
    const holders = await ctx.leaseHolders(limited);
    return deployments.map((d) => deploymentOut(d, holders.get(deploymentLimitKey(d.id))?.length ?? 0));
  };
  const oneOut = async (deployment: DeploymentWithSchedules) => (await deploymentsOut([deployment]))[0];

  /** A schema that cannot be compiled is refused when stored, not when the first run is created. */
  const checkSchema = (schema: Record<string, unknown> | null | undefined) => {
    if (!schema) return;
    try {
      ctx.parameters.compile(schema);
    } catch (error) {
      throw new HttpError(422, [
        { loc: ["body", "parameter_openapi_schema"], msg: (error as Error).message, type: "value_error" },
      ]);
    }
  };

  app.post(
    "/deployments/",
    {
      schema: {
        tags: ["Deployments"],
        summary: "Create a deployment, or update the flow's deployment of this name",
        body: deploymentCreate,
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkSchema(body.parameter_openapi_schema);
      if (!(await getFlow(ctx.db, body.flow_id))) throw notFound("Flow");
      const { deployment, created, withdrawn } = await upsertDeployment(ctx.db, {
        ...fieldsOf(body),
        flowId: body.flow_id,
        name: body.name,
      });
      await ctx.dispatcher.withdraw(withdrawn);
      return reply.code(created ? 201 : 200).send(await oneOut(deployment));
    },
  );

  app.get(
    "/deployments/:id",
    { schema: { tags: ["Deployments"], summary: "Read a deployment", params: idParams } },
    async (request) => {
      const deployment = await getDeployment(ctx.db, request.params.id);
      if (!deployment) throw notFound("Deployment");
      return oneOut(deployment);
    },
  );

  app.get(
    "/deployments/name/:flow_name/:deployment_name",
    {
      schema: {
        tags: ["Deployments"],
        summary: "Read a deployment by flow name and deployment name",
        params: z.object({ flow_name: z.string(), deployment_name: z.string() }),
      },
    },
    async (request) => {
      const deployment = await getDeploymentByName(ctx.db, request.params.flow_name, request.params.deployment_name);
      if (!deployment) throw notFound("Deployment");
      return oneOut(deployment);
    },
  );

  app.post(
    "/deployments/filter",
    { schema: { tags: ["Deployments"], summary: "Query deployments", body: optionalBody(deploymentFilterBody) } },
    async (request) => deploymentsOut(await listDeploymentsBy(ctx.db, request.body)),
  );

  app.post(
    "/deployments/count",
    { schema: { tags: ["Deployments"], summary: "Count deployments", body: optionalBody(relatedFilterBody) } },
    async (request) => countDeploymentsBy(ctx.db, request.body),
  );

  app.patch(
    "/deployments/:id",
    { schema: { tags: ["Deployments"], summary: "Update a deployment", params: idParams, body: deploymentUpdate } },
    async (request, reply) => {
      checkSchema(request.body.parameter_openapi_schema);
      const result = await updateDeployment(ctx.db, request.params.id, fieldsOf(request.body));
      if (!result) throw notFound("Deployment");
      await ctx.dispatcher.withdraw(result.withdrawn);
      return reply.code(204).send();
    },
  );

  for (const [action, paused] of [
    ["pause_deployment", true],
    ["resume_deployment", false],
  ] as const) {
    app.post(
      `/deployments/:id/${action}`,
      {
        schema: {
          tags: ["Deployments"],
          summary: paused ? "Pause a deployment's schedules" : "Resume a deployment's schedules",
          params: idParams,
        },
      },
      async (request, reply) => {
        const result = await setDeploymentPaused(ctx.db, request.params.id, paused);
        if (!result) throw notFound("Deployment");
        await ctx.dispatcher.withdraw(result.withdrawn);
        return reply.code(204).send();
      },
    );
  }

  app.delete(
    "/deployments/:id",
    { schema: { tags: ["Deployments"], summary: "Delete a deployment", params: idParams } },
    async (request, reply) => {
      const result = await deleteDeployment(ctx.db, request.params.id);
      if (!result) throw notFound("Deployment");
      await ctx.dispatcher.withdraw(result.withdrawn);
      return reply.code(204).send();
    },
  );

  app.post(
    "/deployments/:id/create_flow_run",
    {
      schema: {
        tags: ["Deployments"],
        summary: "Create a flow run of a deployment (no body needed)",
        params: idParams,
        body: optionalBody(deploymentFlowRunCreate),
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { id } = request.params;
      const now = ctx.now();
      const state = body.state ? initialStateOf(body.state) : undefined;
      const runRequest: DeploymentRunRequest = {
        scheduledTime: state?.scheduledTime ?? now,
        parameters: body.parameters ?? undefined,
        name: body.name ?? undefined,
        tags: body.tags ?? undefined,
        idempotencyKey: body.idempotency_key,
        workQueueName: body.work_queue_name,
        parentTaskRunId: body.parent_task_run_id,
        empiricalPolicy: body.empirical_policy ?? undefined,
        state,
        traceId: currentTraceId(),
      };
      const validate = (deployment: DeploymentSummary) => {
        const enforce = body.enforce_parameter_schema ?? deployment.enforceParameterSchema;
        if (enforce && deployment.parameterSchema) {
          const parameters = { ...deployment.parameters, ...body.parameters };
          ctx.parameters.validate(deployment.flowName, deployment.parameterSchema, parameters);
        }
      };
      const { deployment, result } =
        (await createFromSnapshot(ctx, id, validate, runRequest, now)) ??
        (await createFromFreshRead(ctx, id, validate, runRequest, now));
      const { flowRun, created } = result;
      if (created) ctx.notices.written(flowRun);
      await ctx.dispatcher.enqueue(flowRun, deployment);
      return reply.code(201).send(flowRunOut(flowRun, now));
    },
  );
}

type Validate = (deployment: DeploymentSummary) => void;
interface CreatedFrom {
  deployment: VersionedDeploymentSummary;
  result: CreatedFlowRun;
}

/**
 * The run, from the deployment as this process last read it, if the deployment has not changed
 * since: one round trip to Postgres. Null when there is no such snapshot, or it is out of date
 * (changed, or refusing what a newer version might accept): then the caller reads it again.
 */
async function createFromSnapshot(
  ctx: ApiContext,
  id: string,
  validate: Validate,
  runRequest: DeploymentRunRequest,
  now: Date,
): Promise<CreatedFrom | null> {
  const deployment = ctx.deployments.get(id);
  if (!deployment) return null;
  try {
    validate(deployment);
    const result = await createDeploymentFlowRun(ctx.db, deployment, runRequest, now, {
      unchangedSince: deployment.rowVersion,
    });
    return { deployment, result };
  } catch (error) {
    const refused = error instanceof ParameterValidationError || error instanceof InvalidInputError;
    if (!refused && !(error instanceof DeploymentChangedError)) throw error;
    ctx.deployments.forget(id);
    return null;
  }
}

/** The run, from the deployment as it is now (read, then written: two round trips). */
async function createFromFreshRead(
  ctx: ApiContext,
  id: string,
  validate: Validate,
  runRequest: DeploymentRunRequest,
  now: Date,
): Promise<CreatedFrom> {
  const deployment = await getVersionedDeploymentSummary(ctx.db, id);
  if (!deployment) throw notFound("Deployment");
  ctx.deployments.remember(deployment);
  validate(deployment);
  return { deployment, result: await createDeploymentFlowRun(ctx.db, deployment, runRequest, now) };
}
