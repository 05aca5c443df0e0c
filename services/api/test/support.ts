/**
 * Test harness: the API on a free port, on the test's own database and Redis prefix, with a small
 * fetch helper and direct access to the database and the flow-run queues for assertions.
 */
import { createDatabase, type Database } from "@sluice/db";
import { FlowRunQueues } from "@sluice/queue";
import { createLogger } from "@sluice/telemetry";
import { createTestContext, type TestContext } from "@sluice/testing";
import type { FastifyInstance } from "fastify";
import { type ApiOptions, buildApi } from "../src/index.js";

export interface ApiHarness {
  ctx: TestContext;
  database: Database;
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234 (no /api). */
  baseUrl: string;
  /** The queues the API enqueues on (same Redis prefix). */
  queues: FlowRunQueues;
  /** `fetch` against the API: the parsed JSON body (or null), the status and the raw text. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  call<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: T; text: string }>;
  /** SQL on the test database. */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

const logger = createLogger({ service: "api-test", level: "silent" });

export async function startApi(
  options: Partial<Pick<ApiOptions, "apiKey" | "bodyLimit" | "uiDir">> = {},
): Promise<ApiHarness> {
  const ctx = await createTestContext();
  const database = createDatabase(ctx.databaseUrl, { max: 5 });
  const app = buildApi({ db: database, redis: ctx.redis, prefix: ctx.prefix, logger, ...options });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
  return {
    ctx,
    database,
    app,
    baseUrl,
    queues,
    async call(method, path, body, headers = {}) {
      const response = await fetch(`${baseUrl}${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = null;
      }
      // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
      return { status: response.status, body: parsed as any, text };
    },
    async query(text, params) {
      return (await database.pool.query(text, params)).rows;
    },
    async close() {
      await queues.close();
      await app.close();
      await database.close();
      await ctx.close();
    },
  };
}

/** A flow and a deployment of it (default pool), returning the deployment object. */
export async function createDeployment(api: ApiHarness, body: Record<string, unknown> = {}, flowName = "ETL Pipeline") {
  const flow = await api.call("POST", "/api/flows/", { name: flowName });
  const created = await api.call("POST", "/api/deployments/", {
    name: "daily-etl",
    flow_id: flow.body.id,
    entrypoint: "etl_pipeline.ts:etlPipeline",
    work_pool_name: "default-agent-pool",
    ...body,
  });
  if (created.status !== 201 && created.status !== 200) {
    throw new Error(`deployment not created: ${created.status} ${created.text}`);
  }
  return created.body;
}

/** JSON schema of the ETL example's parameters (what the SDK sends as parameter_openapi_schema). */
export const ETL_PARAMETER_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    apiUrl: { type: "string", format: "uri" },
    tableName: { type: "string", minLength: 1 },
    batchSize: { type: "integer", minimum: 1 },
  },
  required: ["apiUrl", "tableName"],
};
