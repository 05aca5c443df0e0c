/** /api/task_runs: read, filter, count (task runs are written by the recorder from worker events). */
import { getTaskRun } from "@sluice/db";
import type { ApiContext, ZodApp } from "../context.js";
import { notFound } from "../http/errors.js";
import { countTaskRunsBy, listTaskRunsBy } from "../queries/lists.js";
import { idParams, optionalBody } from "../schemas/common.js";
import { relatedFilterBody, taskRunFilterBody } from "../schemas/filters.js";
import { taskRunOut } from "../serializers.js";

export function taskRunRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get(
    "/task_runs/:id",
    { schema: { tags: ["Task Runs"], summary: "Read a task run", params: idParams } },
    async (request) => {
      const run = await getTaskRun(ctx.db, request.params.id);
      if (!run) throw notFound("Task run");
      return taskRunOut(run, ctx.now());
    },
  );

  app.post(
    "/task_runs/filter",
    { schema: { tags: ["Task Runs"], summary: "Query task runs", body: optionalBody(taskRunFilterBody) } },
    async (request) => {
      const now = ctx.now();
      return (await listTaskRunsBy(ctx.db, request.body)).map((run) => taskRunOut(run, now));
    },
  );

  app.post(
    "/task_runs/count",
    { schema: { tags: ["Task Runs"], summary: "Count task runs", body: optionalBody(relatedFilterBody) } },
    async (request) => countTaskRunsBy(ctx.db, request.body),
  );
}
