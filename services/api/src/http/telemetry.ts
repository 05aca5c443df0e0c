/**
 * Traces and metrics of the API: the HTTP server span (from the http instrumentation) is named after
 * the route, `POST /api/deployments/:id/create_flow_run`; `GET /metrics` serves Prometheus's text
 * format (behind the API key when one is set), prom-client being loaded on the first scrape.
 */
import type { AnySluiceDb } from "@sluice/db";
import { isTracingEnabled, type Logger, nameHttpServerSpan } from "@sluice/telemetry";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { type ApiMetrics, createApiMetrics } from "../metrics.js";

export function installTelemetry(
  app: FastifyInstance,
  options: { db: AnySluiceDb; redis: Redis; prefix: string; logger: Logger },
): void {
  if (isTracingEnabled()) {
    app.addHook("onRequest", async (request) => {
      nameHttpServerSpan(request.method, request.routeOptions.url);
    });
  }
  let metrics: Promise<ApiMetrics> | undefined;
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    metrics ??= createApiMetrics(options);
    metrics.catch(() => {
      metrics = undefined;
    });
    const { metrics: registry } = await metrics;
    return reply.type(registry.contentType).send(await registry.render());
  });
  app.addHook("onClose", async () => {
    await (await metrics?.catch(() => undefined))?.close();
  });
}
