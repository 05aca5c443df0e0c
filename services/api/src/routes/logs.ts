/** /api/logs: filter (by run, level, time) and bulk create, in Prefect's shapes. */
import { randomUUID } from "node:crypto";
import { logs } from "@sluice/db";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { listLogsBy } from "../queries/lists.js";
import { dateTime, optionalBody, uuid } from "../schemas/common.js";
import { logFilterBody } from "../schemas/filters.js";
import { logOut } from "../serializers.js";

/** Prefect's LogCreate. */
const logCreate = z.object({
  name: z.string(),
  level: z.number().int(),
  message: z.string(),
  timestamp: dateTime,
  flow_run_id: uuid.nullish(),
  task_run_id: uuid.nullish(),
  worker_id: uuid.nullish(),
});

/** Rows per INSERT statement (Postgres allows 65535 parameters; a log row has 7). */
const INSERT_CHUNK = 5000;

export function logRoutes(app: ZodApp, ctx: ApiContext): void {
  app.post(
    "/logs/",
    { schema: { tags: ["Logs"], summary: "Create logs", body: z.array(logCreate) } },
    async (request, reply) => {
      const rows = request.body.map((log) => ({
        id: randomUUID(),
        name: log.name,
        level: log.level,
        message: log.message.replaceAll("\u0000", ""),
        timestamp: log.timestamp,
        flowRunId: log.flow_run_id ?? null,
        taskRunId: log.task_run_id ?? null,
      }));
      if (rows.length > 0) {
        await ctx.db.transaction(async (tx) => {
          for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
            await tx.insert(logs).values(rows.slice(i, i + INSERT_CHUNK));
          }
        });
      }
      return reply.code(201).send();
    },
  );

  app.post(
    "/logs/filter",
    { schema: { tags: ["Logs"], summary: "Query logs", body: optionalBody(logFilterBody) } },
    async (request) => (await listLogsBy(ctx.db, request.body)).map(logOut),
  );
}
