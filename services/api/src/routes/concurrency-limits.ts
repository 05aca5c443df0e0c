/** /api/concurrency_limits: tag concurrency limits (Prefect's v1 API), kept in Postgres and mirrored to Redis. */
import {
  type ConcurrencyLimit,
  deleteConcurrencyLimit,
  getConcurrencyLimit,
  getConcurrencyLimitByTag,
  listConcurrencyLimits,
  upsertConcurrencyLimit,
} from "@sluice/db";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { notFound } from "../http/errors.js";
import { idParams, optionalBody, pagination } from "../schemas/common.js";
import { concurrencyLimitOut } from "../serializers.js";

const limitCreate = z.object({
  tag: z.string().min(1),
  concurrency_limit: z.number().int().min(0),
});
const tagParams = z.object({ tag: z.string().min(1) });

export function concurrencyLimitRoutes(app: ZodApp, ctx: ApiContext): void {
  const withSlots = async (limits: ConcurrencyLimit[]) => {
    const slots = await ctx.tagLimits.activeSlots(limits.map((l) => l.tag));
    return limits.map((limit) => concurrencyLimitOut(limit, slots.get(limit.tag) ?? []));
  };
  const one = async (limit: ConcurrencyLimit | null) => {
    if (!limit) throw notFound("Concurrency limit");
    const [out] = await withSlots([limit]);
    return out;
  };

  app.post(
    "/concurrency_limits/",
    { schema: { tags: ["Concurrency Limits"], summary: "Create or update a tag's limit", body: limitCreate } },
    async (request, reply) => {
      const { concurrencyLimit, created } = await upsertConcurrencyLimit(
        ctx.db,
        request.body.tag,
        request.body.concurrency_limit,
      );
      await ctx.tagLimits.set(concurrencyLimit);
      return reply.code(created ? 201 : 200).send(await one(concurrencyLimit));
    },
  );

  app.get(
    "/concurrency_limits/:id",
    { schema: { tags: ["Concurrency Limits"], summary: "Read a limit", params: idParams } },
    async (request) => one(await getConcurrencyLimit(ctx.db, request.params.id)),
  );

  app.get(
    "/concurrency_limits/tag/:tag",
    { schema: { tags: ["Concurrency Limits"], summary: "Read a tag's limit", params: tagParams } },
    async (request) => one(await getConcurrencyLimitByTag(ctx.db, request.params.tag)),
  );

  app.post(
    "/concurrency_limits/tag/:tag/reset",
    {
      schema: {
        tags: ["Concurrency Limits"],
        summary: "Free every slot of a tag's limit (e.g. held by runs that will never release them)",
        params: tagParams,
      },
    },
    async (request) => {
      const limit = await getConcurrencyLimitByTag(ctx.db, request.params.tag);
      if (!limit) throw notFound("Concurrency limit");
      await ctx.tagLimits.reset(limit.tag);
      return one(limit);
    },
  );

  app.post(
    "/concurrency_limits/filter",
    {
      schema: { tags: ["Concurrency Limits"], summary: "List limits", body: optionalBody(z.object(pagination)) },
    },
    async (request) =>
      withSlots(
        await listConcurrencyLimits(ctx.db, {
          limit: request.body.limit ?? undefined,
          offset: request.body.offset ?? undefined,
        }),
      ),
  );

  const remove = async (by: { id: string } | { tag: string }) => {
    const deleted = await deleteConcurrencyLimit(ctx.db, by);
    if (!deleted) throw notFound("Concurrency limit");
    await ctx.tagLimits.delete(deleted.tag);
  };

  app.delete(
    "/concurrency_limits/:id",
    { schema: { tags: ["Concurrency Limits"], summary: "Delete a limit", params: idParams } },
    async (request, reply) => {
      await remove({ id: request.params.id });
      return reply.code(204).send();
    },
  );

  app.delete(
    "/concurrency_limits/tag/:tag",
    { schema: { tags: ["Concurrency Limits"], summary: "Delete a tag's limit", params: tagParams } },
    async (request, reply) => {
      await remove({ tag: request.params.tag });
      return reply.code(204).send();
    },
  );
}
