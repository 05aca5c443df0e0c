/**
 * /api/flow_runs: create (ad hoc, or of a deployment: then enqueued), read, filter, count,
 * set_state (Prefect's orchestration result; a terminal run refuses an unforced change), delete
 * (a run a worker holds is told to stop, as for a cancel).
 */
import {
  createDeploymentFlowRun,
  deleteFlowRun,
  type FlowRun,
  getDeploymentSummary,
  getFlow,
  getFlowRun,
  insertFlowRun,
  setFlowRunState,
} from "@sluice/db";
import { currentTraceId } from "@sluice/telemetry";
import type { ApiContext, ZodApp } from "../context.js";
import { notFound } from "../http/errors.js";
import { countFlowRunsBy, listFlowRunsBy } from "../queries/lists.js";
import { idParams, optionalBody } from "../schemas/common.js";
import { flowRunFilterBody, relatedFilterBody } from "../schemas/filters.js";
import { flowRunCreate, initialStateOf, setStateBody } from "../schemas/runs.js";
import { flowRunOut, orchestrationResultOut } from "../serializers.js";

export function flowRunRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    "/flow_runs/",
    { schema: { tags: ["Flow Runs"], summary: "Create a flow run", body: flowRunCreate } },
    async (request, reply) => {
      const body = request.body;
      const now = ctx.now();
      const flow = await getFlow(ctx.db, body.flow_id);
      if (!flow) throw notFound("Flow");
      const common = {
        name: body.name ?? undefined,
        parentTaskRunId: body.parent_task_run_id,
        tags: body.tags ?? undefined,
        idempotencyKey: body.idempotency_key,
        workQueueName: body.work_queue_name,
        empiricalPolicy: body.empirical_policy ?? undefined,
      };
      if (body.deployment_id) {
        const deployment = await getDeploymentSummary(ctx.db, body.deployment_id);
        if (!deployment) throw notFound("Deployment");
        // Prefect's default for a deployment's run is Scheduled (now); its parameters are taken as given.
        const state = body.state ? initialStateOf(body.state) : { type: "SCHEDULED" as const, scheduledTime: now };
        const { flowRun, created } = await createDeploymentFlowRun(
          ctx.db,
          { ...deployment, parameters: {} },
          {
            ...common,
            parameters: body.parameters ?? {},
            state,
            scheduledTime: state.scheduledTime ?? now,
            traceId: currentTraceId(),
          },
          now,
        );
        if (created) ctx.notices.written(flowRun);
        await ctx.dispatcher.enqueue(flowRun, deployment);
        return reply.code(created ? 201 : 200).send(flowRunOut(flowRun, now));
      }
      // An ad hoc run (a client running the flow itself): Pending unless told otherwise, never enqueued.
      const { flowRun, created } = await insertFlowRun(
        ctx.db,
        {
          ...common,
          flowId: flow.id,
          parameters: body.parameters ?? {},
          workPoolName: body.work_pool_name ?? null,
          state: body.state ? initialStateOf(body.state) : { type: "PENDING" },
        },
        now,
      );
      if (created) ctx.notices.written(flowRun);
      return reply.code(created ? 201 : 200).send(flowRunOut(flowRun, now));
    },
  );

  app.get(
    "/flow_runs/:id",
    { schema: { tags: ["Flow Runs"], summary: "Read a flow run", params: idParams } },
    async (request) => {
      const run = await getFlowRun(ctx.db, request.params.id);
      if (!run) throw notFound("Flow run");
      return flowRunOut(run, ctx.now());
    },
  );

  app.post(
    "/flow_runs/filter",
    { schema: { tags: ["Flow Runs"], summary: "Query flow runs", body: optionalBody(flowRunFilterBody) } },
    async (request) => {
      const now = ctx.now();
      return (await listFlowRunsBy(ctx.db, request.body)).map((run) => flowRunOut(run, now));
    },
  );

  app.post(
    "/flow_runs/count",
    { schema: { tags: ["Flow Runs"], summary: "Count flow runs", body: optionalBody(relatedFilterBody) } },
    async (request) => countFlowRunsBy(ctx.db, request.body),
  );

  app.post(
    "/flow_runs/:id/set_state",
    {
      schema: {
        tags: ["Flow Runs"],
        summary: "Propose a new state for a flow run",
        params: idParams,
        body: setStateBody,
      },
    },
    async (request, reply) => {
      const { state, force } = request.body;
      const now = ctx.now();
      const result = await setFlowRunState(
        ctx.db,
        request.params.id,
        {
          type: state.type,
          name: initialStateOf(state).name,
          message: state.message ?? null,
          data: state.data,
          scheduledTime: state.state_details?.scheduled_time ?? null,
        },
        { force: force ?? false, now },
      );
      if (!result) throw notFound("Flow run");
      if (result.status === "ACCEPT") ctx.notices.written(result.flowRun);
      const run = result.status === "ACCEPT" ? await followState(ctx, result.flowRun) : result.flowRun;
      return reply
        .code(result.status === "ACCEPT" ? 201 : 200)
        .send(orchestrationResultOut(result.status, result.reason, run));
    },
  );

  app.delete(
    "/flow_runs/:id",
    { schema: { tags: ["Flow Runs"], summary: "Delete a flow run", params: idParams } },
    async (request, reply) => {
      const deleted = await deleteFlowRun(ctx.db, request.params.id);
      if (!deleted) throw notFound("Flow run");
      await ctx.dispatcher.withdrawDeleted([deleted]);
      return reply.code(204).send();
    },
  );
}

/**
 * What an accepted state means for the run's job: a SCHEDULED deployment run (a retry, or a new
 * time) gets a job for its scheduled time; a cancelled run loses its queued job, and a run being
 * cancelled that no worker can have (its job was still waiting, or a deployment's run that never
 * ran lost its job) is Cancelled at once. A run a worker may hold is announced on the cancellation
 * channel: that worker aborts it and records it Cancelled.
 */
async function followState(ctx: ApiContext, run: FlowRun): Promise<FlowRun> {
  if (run.stateType === "SCHEDULED" && run.deploymentId) {
    await ctx.dispatcher.clearCancellation(run.id);
    const deployment = await getDeploymentSummary(ctx.db, run.deploymentId);
    if (deployment) await ctx.dispatcher.reschedule(run, deployment);
    return run;
  }
  if (run.stateType !== "CANCELLED" && run.stateType !== "CANCELLING") return run;
  const notTaken = await ctx.dispatcher.withdrawCancelled(run);
  if (run.stateType === "CANCELLING" && notTaken) {
    const cancelled = await setFlowRunState(
      ctx.db,
      run.id,
      { type: "CANCELLED", message: "Cancelled before a worker started it" },
      { now: ctx.now() },
    );
    if (cancelled?.status === "ACCEPT") {
      ctx.notices.written(cancelled.flowRun);
      return cancelled.flowRun;
    }
  }
  return run;
}
