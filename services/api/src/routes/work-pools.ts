/**
 * /api/work_pools: pools (create, read, filter, count, update, delete), their queues, and their
 * workers' heartbeats. A pool's pause and concurrency limit are applied to its Redis queue, so
 * they hold for every worker at once.
 */

import { workQueueLimitKey } from "@sluice/core";
import {
  countWorkPools,
  createWorkPool,
  createWorkQueue,
  deleteWorkPool,
  getWorkPool,
  getWorkQueue,
  listWorkers,
  listWorkPools,
  listWorkQueues,
  recordWorkerHeartbeat,
  updateWorkPool,
  updateWorkQueue,
  type WorkPool,
} from "@sluice/db";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { HttpError, notFound } from "../http/errors.js";
import { workPoolExtras, workPoolExtrasOf } from "../queries/work-pools.js";
import { jsonObject, optionalBody } from "../schemas/common.js";
import { type WorkPoolFilter, workerFilterBody, workPoolFilterBody, workQueueFilterBody } from "../schemas/filters.js";
import { workerOut, workPoolOut, workQueueOut } from "../serializers.js";

/** Pool names become Redis queue names, where ':' separates key parts. */
const poolName = z
  .string()
  .min(1)
  .regex(/^[^:/]+$/, { error: "Work pool names cannot contain ':' or '/'" });

const workPoolCreate = z.object({
  name: poolName,
  description: z.string().nullish(),
  type: z.string().min(1).nullish(),
  base_job_template: jsonObject.nullish(),
  is_paused: z.boolean().nullish(),
  concurrency_limit: z.number().int().min(0).nullish(),
  storage_configuration: jsonObject.nullish(),
});

const workPoolUpdate = z.object({
  description: z.string().nullish(),
  is_paused: z.boolean().nullish(),
  base_job_template: jsonObject.nullish(),
  concurrency_limit: z.number().int().min(0).nullish(),
  storage_configuration: jsonObject.nullish(),
});

const workQueueCreate = z.object({
  name: z.string().min(1),
  description: z.string().nullish(),
  is_paused: z.boolean().nullish(),
  concurrency_limit: z.number().int().min(0).nullish(),
  priority: z.number().int().min(1).nullish(),
});

const workQueueUpdate = z.object({
  name: z.string().min(1).nullish(),
  description: z.string().nullish(),
  is_paused: z.boolean().nullish(),
  concurrency_limit: z.number().int().min(0).nullish(),
  priority: z.number().int().min(1).nullish(),
});

const heartbeat = z.object({
  name: z.string().min(1),
  heartbeat_interval_seconds: z.number().int().positive().nullish(),
  get_worker_id: z.boolean().nullish(),
});

const poolParams = z.object({ name: z.string() });
const queueParams = z.object({ name: z.string(), queue: z.string() });

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

function poolCriteria(filter: WorkPoolFilter | null | undefined) {
  return {
    names: orUndefined(filter?.name?.any_),
    ids: orUndefined(filter?.id?.any_),
    types: orUndefined(filter?.type?.any_),
  };
}

export function workPoolRoutes(app: ZodApp, ctx: ApiContext): void {
  const poolOut = async (pool: WorkPool) => workPoolOut(pool, await workPoolExtrasOf(ctx.db, pool, ctx.now()));
  const requirePool = async (name: string) => {
    const pool = await getWorkPool(ctx.db, name);
    if (!pool) throw notFound("Work pool");
    return pool;
  };

  app.get(
    "/work_pools/:name/health",
    {
      schema: {
        tags: ["Work Pools"],
        summary: "A pool's health: status, workers online, queue depth by state, concurrency in use",
        params: poolParams,
      },
    },
    async (request) => {
      const pool = await requirePool(request.params.name);
      const now = ctx.now();
      const [out, workers, depth, queues] = await Promise.all([
        poolOut(pool),
        listWorkers(ctx.db, pool.name, {}),
        ctx.dispatcher.queueDepth(pool.name),
        listWorkQueues(ctx.db, pool.name),
      ]);
      const workersOut = (workers ?? []).map((worker) => workerOut(worker, now));
      // A limited work queue's slots in use are the runs holding its leases.
      const limited = (queues?.queues ?? []).filter((queue) => queue.concurrencyLimit !== null);
      const holders = await ctx.leaseHolders(limited.map((queue) => workQueueLimitKey(pool.name, queue.name)));
      return {
        name: pool.name,
        status: out.status,
        is_paused: pool.paused,
        concurrency_limit: pool.concurrencyLimit,
        // Flow runs workers hold now, across the pool (what its concurrency limit caps).
        concurrency_in_use: depth.flow_runs.running,
        workers_online: workersOut.filter((worker) => worker.status === "ONLINE").length,
        workers: workersOut,
        flow_runs: depth.flow_runs,
        task_runs: depth.task_runs,
        work_queues: limited.map((queue) => ({
          name: queue.name,
          concurrency_limit: queue.concurrencyLimit,
          concurrency_in_use: holders.get(workQueueLimitKey(pool.name, queue.name))?.length ?? 0,
        })),
      };
    },
  );

  app.post(
    "/work_pools/",
    { schema: { tags: ["Work Pools"], summary: "Create a work pool", body: workPoolCreate } },
    async (request, reply) => {
      const body = request.body;
      const pool = await createWorkPool(ctx.db, {
        name: body.name,
        type: orUndefined(body.type),
        description: body.description ?? null,
        concurrencyLimit: body.concurrency_limit ?? null,
        paused: body.is_paused ?? false,
        baseJobTemplate: orUndefined(body.base_job_template),
      });
      if (pool.paused || pool.concurrencyLimit !== null) await ctx.dispatcher.applyPoolSettings(pool);
      return reply.code(201).send(await poolOut(pool));
    },
  );

  app.get(
    "/work_pools/:name",
    { schema: { tags: ["Work Pools"], summary: "Read a work pool", params: poolParams } },
    async (request) => poolOut(await requirePool(request.params.name)),
  );

  app.post(
    "/work_pools/filter",
    { schema: { tags: ["Work Pools"], summary: "Query work pools", body: optionalBody(workPoolFilterBody) } },
    async (request) => {
      const body = request.body;
      const pools = await listWorkPools(ctx.db, {
        ...poolCriteria(body.work_pools),
        limit: orUndefined(body.limit),
        offset: orUndefined(body.offset),
      });
      const extras = await workPoolExtras(ctx.db, pools, ctx.now());
      return pools.map((pool) =>
        workPoolOut(pool, extras.get(pool.id) ?? { defaultQueueId: null, hasOnlineWorker: false }),
      );
    },
  );

  app.post(
    "/work_pools/count",
    { schema: { tags: ["Work Pools"], summary: "Count work pools", body: optionalBody(workPoolFilterBody) } },
    async (request) => countWorkPools(ctx.db, poolCriteria(request.body.work_pools)),
  );

  app.patch(
    "/work_pools/:name",
    { schema: { tags: ["Work Pools"], summary: "Update a work pool", params: poolParams, body: workPoolUpdate } },
    async (request, reply) => {
      const body = request.body;
      const pool = await updateWorkPool(ctx.db, request.params.name, {
        description: orUndefined(body.description),
        paused: orUndefined(body.is_paused),
        baseJobTemplate: orUndefined(body.base_job_template),
        concurrencyLimit: body.concurrency_limit,
      });
      if (!pool) throw notFound("Work pool");
      await ctx.dispatcher.applyPoolSettings(pool);
      return reply.code(204).send();
    },
  );

  app.delete(
    "/work_pools/:name",
    { schema: { tags: ["Work Pools"], summary: "Delete a work pool", params: poolParams } },
    async (request, reply) => {
      if (!(await deleteWorkPool(ctx.db, request.params.name))) throw notFound("Work pool");
      await ctx.workQueueLimits.dropPool(request.params.name);
      return reply.code(204).send();
    },
  );

  app.post(
    "/work_pools/:name/queues/",
    {
      schema: { tags: ["Work Pools"], summary: "Create a work queue", params: poolParams, body: workQueueCreate },
    },
    async (request, reply) => {
      const body = request.body;
      const queue = await createWorkQueue(ctx.db, request.params.name, {
        name: body.name,
        description: body.description ?? null,
        concurrencyLimit: body.concurrency_limit ?? null,
        priority: orUndefined(body.priority),
        paused: body.is_paused ?? false,
      });
      if (!queue) throw notFound("Work pool");
      // Workers enforce a queue's limit on the runs of that queue, across the pool.
      if (queue.concurrencyLimit !== null)
        await ctx.workQueueLimits.set(request.params.name, queue.name, queue.concurrencyLimit);
      const pool = await requirePool(request.params.name);
      return reply.code(201).send(workQueueOut(queue, pool, await workPoolExtrasOf(ctx.db, pool, ctx.now())));
    },
  );

  app.patch(
    "/work_pools/:name/queues/:queue",
    {
      schema: {
        tags: ["Work Pools"],
        summary: "Update a work queue (concurrency_limit: null removes its limit)",
        params: queueParams,
        body: workQueueUpdate,
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.name && body.name !== request.params.queue) {
        throw new HttpError(422, [
          { loc: ["body", "name"], msg: "Renaming a work queue is not supported by Sluice", type: "value_error" },
        ]);
      }
      const queue = await updateWorkQueue(ctx.db, request.params.name, request.params.queue, {
        description: orUndefined(body.description),
        paused: orUndefined(body.is_paused),
        priority: orUndefined(body.priority),
        concurrencyLimit: body.concurrency_limit,
      });
      if (!queue) throw notFound("Work queue");
      if (body.concurrency_limit !== undefined) {
        await ctx.workQueueLimits.set(request.params.name, queue.name, queue.concurrencyLimit);
      }
      return reply.code(204).send();
    },
  );

  app.get(
    "/work_pools/:name/queues/:queue",
    { schema: { tags: ["Work Pools"], summary: "Read a work queue", params: queueParams } },
    async (request) => {
      const queue = await getWorkQueue(ctx.db, request.params.name, request.params.queue);
      if (!queue) throw notFound("Work queue");
      const pool = await requirePool(request.params.name);
      return workQueueOut(queue, pool, await workPoolExtrasOf(ctx.db, pool, ctx.now()));
    },
  );

  app.post(
    "/work_pools/:name/queues/filter",
    {
      schema: {
        tags: ["Work Pools"],
        summary: "Query a work pool's queues",
        params: poolParams,
        body: optionalBody(workQueueFilterBody),
      },
    },
    async (request) => {
      const body = request.body;
      const result = await listWorkQueues(ctx.db, request.params.name, {
        names: orUndefined(body.work_queues?.name?.any_),
        limit: orUndefined(body.limit),
        offset: orUndefined(body.offset),
      });
      if (!result) throw notFound("Work pool");
      const extras = await workPoolExtrasOf(ctx.db, result.workPool, ctx.now());
      const ids = body.work_queues?.id?.any_;
      const prefixes = body.work_queues?.name?.startswith_;
      return result.queues
        .filter((queue) => !ids || ids.includes(queue.id))
        .filter((queue) => !prefixes || prefixes.some((prefix) => queue.name.startsWith(prefix)))
        .map((queue) => workQueueOut(queue, result.workPool, extras));
    },
  );

  app.post(
    "/work_pools/:name/workers/heartbeat",
    {
      schema: { tags: ["Work Pools"], summary: "A worker's heartbeat", params: poolParams, body: heartbeat },
    },
    async (request, reply) => {
      const worker = await recordWorkerHeartbeat(ctx.db, request.params.name, {
        name: request.body.name,
        heartbeatIntervalSeconds: request.body.heartbeat_interval_seconds ?? null,
      });
      if (!worker) throw notFound("Work pool");
      // A JSON string, as FastAPI answers (Fastify would send a bare string as text).
      if (request.body.get_worker_id) return reply.code(200).type("application/json").send(JSON.stringify(worker.id));
      return reply.code(204).send();
    },
  );

  app.post(
    "/work_pools/:name/workers/filter",
    {
      schema: {
        tags: ["Work Pools"],
        summary: "Query a work pool's workers",
        params: poolParams,
        body: optionalBody(workerFilterBody),
      },
    },
    async (request) => {
      const body = request.body;
      const now = ctx.now();
      const found = await listWorkers(ctx.db, request.params.name, {
        limit: orUndefined(body.limit),
        offset: orUndefined(body.offset),
      });
      if (!found) throw notFound("Work pool");
      const criteria = body.workers;
      return found
        .map((worker) => workerOut(worker, now))
        .filter((worker) => !criteria?.status?.any_ || criteria.status.any_.includes(worker.status))
        .filter((worker) => !criteria?.status?.not_any_?.includes(worker.status))
        .filter((worker) => {
          const seen = Date.parse(worker.last_heartbeat_time ?? "");
          const range = criteria?.last_heartbeat_time;
          if (range?.before_ && seen > range.before_.getTime()) return false;
          if (range?.after_ && seen < range.after_.getTime()) return false;
          return true;
        });
    },
  );
}
