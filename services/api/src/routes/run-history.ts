/**
 * A run's state history (Prefect's `GET /flow_run_states/?flow_run_id=` and
 * `GET /task_run_states/?task_run_id=`, oldest first, with each state's data: the result of a
 * Completed state, the error of a Failed one) and `POST /flow_runs/history`: flow runs counted per
 * time bucket and state, computed in Postgres so a chart costs one query whatever the run count.
 */
import { and, flowRuns, getFlowRunStates, getTaskRunStates, gte, lt, sql } from "@sluice/db";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { HttpError } from "../http/errors.js";
import { dateTime, uuid } from "../schemas/common.js";

/** More buckets than a chart can show is a mistake in the request. */
const MAX_BUCKETS = 500;

interface StateRow {
  id: string;
  type: string;
  name: string;
  timestamp: Date;
  message: string | null;
  data: unknown;
  runCount: number;
}

function stateOut(state: StateRow, details: Record<string, string>) {
  return {
    id: state.id,
    type: state.type,
    name: state.name,
    timestamp: state.timestamp.toISOString(),
    message: state.message,
    data: state.data ?? null,
    state_details: { ...details, run_count: state.runCount },
  };
}

const historyBody = z.object({
  history_start: dateTime,
  history_end: dateTime,
  history_interval_seconds: z.number().positive(),
});

export function runHistoryRoutes(app: ZodApp, ctx: ApiContext): void {
  app.get(
    "/flow_run_states/",
    {
      schema: {
        tags: ["Flow Run States"],
        summary: "A flow run's states, oldest first",
        querystring: z.object({ flow_run_id: uuid }),
      },
    },
    async (request) => {
      const flowRunId = request.query.flow_run_id;
      return (await getFlowRunStates(ctx.db, flowRunId)).map((state) => stateOut(state, { flow_run_id: flowRunId }));
    },
  );

  app.get(
    "/task_run_states/",
    {
      schema: {
        tags: ["Task Run States"],
        summary: "A task run's states, oldest first",
        querystring: z.object({ task_run_id: uuid }),
      },
    },
    async (request) => {
      const taskRunId = request.query.task_run_id;
      return (await getTaskRunStates(ctx.db, taskRunId)).map((state) => stateOut(state, { task_run_id: taskRunId }));
    },
  );

  app.post(
    "/flow_runs/history",
    {
      schema: {
        tags: ["Flow Runs"],
        summary: "Flow runs per time bucket (by expected start time) and state",
        body: historyBody,
      },
    },
    async (request) => {
      const { history_start: start, history_end: end, history_interval_seconds: interval } = request.body;
      const buckets = Math.ceil((end.getTime() - start.getTime()) / 1000 / interval);
      if (buckets <= 0 || buckets > MAX_BUCKETS) {
        throw new HttpError(422, [
          {
            loc: ["body", "history_interval_seconds"],
            msg: `history_end must be after history_start, in at most ${MAX_BUCKETS} intervals`,
            type: "value_error",
          },
        ]);
      }
      const bucket = sql<number>`floor(extract(epoch from ${flowRuns.expectedStartTime} - ${start.toISOString()}::timestamptz) / ${interval})::int`;
      const rows = await ctx.db
        .select({
          bucket,
          stateType: flowRuns.stateType,
          stateName: flowRuns.stateName,
          count: sql<number>`count(*)::int`,
        })
        .from(flowRuns)
        .where(and(gte(flowRuns.expectedStartTime, start), lt(flowRuns.expectedStartTime, end)))
        .groupBy(sql`1, 2, 3`); // by position: the bucket expression is parameterised
      return Array.from({ length: buckets }, (_, index) => ({
        interval_start: new Date(start.getTime() + index * interval * 1000).toISOString(),
        interval_end: new Date(Math.min(end.getTime(), start.getTime() + (index + 1) * interval * 1000)).toISOString(),
        states: rows
          .filter((row) => Number(row.bucket) === index)
          .map((row) => ({ state_type: row.stateType, state_name: row.stateName, count_runs: row.count })),
      }));
    },
  );
}
