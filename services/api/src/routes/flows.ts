/** /api/flows: create-or-get by name, read by id or name, filter, count, update tags, delete. */
import { deleteFlow, ensureFlow, eq, flows, getFlow, getFlowByName, sql } from "@sluice/db";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { notFound } from "../http/errors.js";
import { countFlowsBy, listFlowsBy } from "../queries/lists.js";
import { idParams, optionalBody, tags } from "../schemas/common.js";
import { flowFilterBody, relatedFilterBody } from "../schemas/filters.js";
import { flowOut } from "../serializers.js";

const flowCreate = z.object({
  name: z.string().min(1),
  tags: tags.nullish(),
  labels: z.record(z.string(), z.unknown()).nullish(),
});

const flowUpdate = z.object({ tags: tags.nullish() });

export function flowRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    "/flows/",
    { schema: { tags: ["Flows"], summary: "Create a flow, or get the one with this name", body: flowCreate } },
    async (request, reply) => {
      const { flow, created } = await ensureFlow(ctx.db, { name: request.body.name, tags: request.body.tags ?? [] });
      return reply.code(created ? 201 : 200).send(flowOut(flow));
    },
  );

  app.get("/flows/:id", { schema: { tags: ["Flows"], summary: "Read a flow", params: idParams } }, async (request) => {
    const flow = await getFlow(ctx.db, request.params.id);
    if (!flow) throw notFound("Flow");
    return flowOut(flow);
  });

  app.get(
    "/flows/name/:name",
    { schema: { tags: ["Flows"], summary: "Read a flow by name", params: z.object({ name: z.string() }) } },
    async (request) => {
      const flow = await getFlowByName(ctx.db, request.params.name);
      if (!flow) throw notFound("Flow");
      return flowOut(flow);
    },
  );

  app.post(
    "/flows/filter",
    { schema: { tags: ["Flows"], summary: "Query flows", body: optionalBody(flowFilterBody) } },
    async (request) => (await listFlowsBy(ctx.db, request.body)).map(flowOut),
  );

  app.post(
    "/flows/count",
    { schema: { tags: ["Flows"], summary: "Count flows", body: optionalBody(relatedFilterBody) } },
    async (request) => countFlowsBy(ctx.db, request.body),
  );

  app.patch(
    "/flows/:id",
    { schema: { tags: ["Flows"], summary: "Update a flow's tags", params: idParams, body: flowUpdate } },
    async (request, reply) => {
      const values =
        request.body.tags != null ? { tags: request.body.tags, updated: sql`now()` } : { updated: sql`now()` };
      const updated = await ctx.db.update(flows).set(values).where(eq(flows.id, request.params.id)).returning();
      if (updated.length === 0) throw notFound("Flow");
      return reply.code(204).send();
    },
  );

  app.delete(
    "/flows/:id",
    { schema: { tags: ["Flows"], summary: "Delete a flow with its deployments and runs", params: idParams } },
    async (request, reply) => {
      const deleted = await deleteFlow(ctx.db, request.params.id);
      if (!deleted) throw notFound("Flow");
      await ctx.dispatcher.withdrawDeleted(deleted.flowRuns);
      return reply.code(204).send();
    },
  );
}
