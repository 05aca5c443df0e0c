/**
 * The Fastify app of Sluice's Prefect-compatible REST API. `buildApi` wires the routes to the
 * collaborators it is given (database, Redis, logger) and reads no environment: the caller (the
 * CLI's `server start`) configures it and calls `listen`.
 */
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { AnySluiceDb } from "@sluice/db";
import { FlowRunCancellation, FlowRunQueues, RunStateNotices, redisKeys } from "@sluice/queue";
import type { Logger } from "@sluice/telemetry";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { jsonSchemaTransform, type ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import type { ApiContext, ZodApp } from "./context.js";
import { DeploymentSnapshots } from "./deployment-snapshots.js";
import { installBearerAuth } from "./http/auth.js";
import { installErrorHandling } from "./http/errors.js";
import { installJsonBodyParser } from "./http/json-body.js";
import { installTelemetry } from "./http/telemetry.js";
import { zodValidatorCompiler } from "./http/validation.js";
import { redisLeaseHolders } from "./lease-holders.js";
import { ParameterValidator } from "./parameters.js";
import { concurrencyLimitRoutes } from "./routes/concurrency-limits.js";
import { deploymentRoutes } from "./routes/deployments.js";
import { eventRoutes } from "./routes/events.js";
import { flowRunRoutes } from "./routes/flow-runs.js";
import { flowRoutes } from "./routes/flows.js";
import { API_VERSION, healthRoutes } from "./routes/health.js";
import { logRoutes } from "./routes/logs.js";
import { runHistoryRoutes } from "./routes/run-history.js";
import { taskRunRoutes } from "./routes/task-runs.js";
import { workPoolRoutes } from "./routes/work-pools.js";
import { FlowRunDispatcher } from "./run-queue.js";
import { DEFAULT_UI_DIR, installStaticUi } from "./static-ui.js";
import { TagLimitMirror } from "./tag-limits.js";
import { WorkQueueLimitMirror } from "./work-queue-limits.js";

export interface ApiOptions {
  /** The database: a Postgres `Database` from @sluice/db, or anything else with a drizzle handle (`db`). */
  db: { db: AnySluiceDb };
  /** Redis connection the flow-run queues use (BullMQ). */
  redis: Redis;
  /** Redis key prefix of the BullMQ queues (the workers must use the same). */
  prefix: string;
  /** When set, every route but /api/health and the docs needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  logger: Logger;
  /** Largest accepted request body in bytes (default 5 MiB); larger ones get 413. */
  bodyLimit?: number;
  /** The clock (tests). */
  now?: () => Date;
  /** The built UI served at `/` (default: services/ui/dist of this repository); null serves no UI. */
  uiDir?: string | null;
  /** Link to a run's trace in a tracing UI, `{trace_id}` replaced by the run's trace id (shown by the UI). */
  traceUiUrl?: string;
}

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;

/** Builds the app (not listening). Closing it closes the queues it opened, not `db` or `redis`. */
export function buildApi(options: ApiOptions): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One debug line per request (below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.setValidatorCompiler(zodValidatorCompiler);
  installJsonBodyParser(app, bodyLimit);
  installErrorHandling(app);
  if (options.apiKey) installBearerAuth(app, options.apiKey);
  installTelemetry(app, { db: options.db.db, redis: options.redis, prefix: options.prefix, logger: options.logger });
  app.addHook("onResponse", async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      "request",
    );
  });

  const queues = new FlowRunQueues(options.redis, options.prefix);
  const ctx: ApiContext = {
    db: options.db.db,
    dispatcher: new FlowRunDispatcher(
      queues,
      options.logger,
      new FlowRunCancellation(options.redis, redisKeys(options.prefix)),
    ),
    notices: new RunStateNotices(options.redis, options.prefix),
    parameters: new ParameterValidator(),
    deployments: new DeploymentSnapshots(),
    tagLimits: new TagLimitMirror(options.redis, redisKeys(options.prefix)),
    leaseHolders: redisLeaseHolders(options.redis, redisKeys(options.prefix)),
    workQueueLimits: new WorkQueueLimitMirror(options.redis, redisKeys(options.prefix)),
    now: options.now ?? (() => new Date()),
  };
  app.addHook("onClose", async () => {
    await ctx.notices.flush();
    await queues.close();
  });
  // Pool and work queue limits hold even if Redis lost them (they are recorded in Postgres).
  app.addHook("onReady", async () => {
    try {
      await ctx.workQueueLimits.syncAll(ctx.db, ctx.dispatcher);
    } catch (error) {
      options.logger.error({ err: error }, "could not copy the work pools' concurrency settings into Redis");
    }
  });

  void app.register(fastifySwagger, {
    openapi: {
      info: {
        title: "Sluice REST API",
        description: "Prefect-compatible REST API of Sluice",
        version: API_VERSION,
      },
      components: options.apiKey ? { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } : undefined,
      security: options.apiKey ? [{ bearer: [] }] : undefined,
    },
    transform: jsonSchemaTransform,
  });
  void app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  void app.register(
    async (api) => {
      const zodApi = api.withTypeProvider<ZodTypeProvider>() as ZodApp;
      healthRoutes(zodApi);
      flowRoutes(zodApi, ctx);
      deploymentRoutes(zodApi, ctx);
      flowRunRoutes(zodApi, ctx);
      taskRunRoutes(zodApi, ctx);
      logRoutes(zodApi, ctx);
      workPoolRoutes(zodApi, ctx);
      concurrencyLimitRoutes(zodApi, ctx);
      runHistoryRoutes(zodApi, ctx);
      const keys = redisKeys(options.prefix);
      eventRoutes(zodApi, ctx, { redis: options.redis, stream: keys.eventStream, recorderGroup: keys.recorderGroup });
    },
    { prefix: "/api" },
  );
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (options.uiDir !== null) {
    installStaticUi(app, { uiDir: options.uiDir ?? DEFAULT_UI_DIR, traceUiUrl: options.traceUiUrl });
  }
  return app;
}
