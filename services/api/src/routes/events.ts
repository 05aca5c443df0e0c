/**
 * GET /api/events: run events as Server-Sent Events, for the UI's live views. Each client gets its
 * own Redis reader tailing the run-event stream (XREAD BLOCK, no consumer group, so the recorder is
 * not disturbed); the reader is disconnected when the client goes away. `?flow_run_id=` narrows the
 * feed to one run, its task runs and its subflows (with their log lines); without it the feed
 * carries state changes and new runs of every run, never log lines.
 *
 * An entry is sent once the recorders have committed it (or after MAX_RECORD_WAIT_MS, when no
 * recorder runs), so a client that refetches on an event reads the new state from the REST API.
 */
import type { ApiFeedEvent } from "@sluice/client";
import type { RunEvent } from "@sluice/core";
import { listTaskRuns } from "@sluice/db";
import { decodeEvents, EVENT_FIELD, isRecordedUpTo } from "@sluice/queue";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { ApiContext, ZodApp } from "../context.js";
import { uuid } from "../schemas/common.js";

const BLOCK_MS = 15_000;
const MAX_RECORD_WAIT_MS = 2_000;
const RECORD_CHECK_MS = 20;

/** The run event stream the feed tails. */
export interface EventFeedSource {
  redis: Redis;
  stream: string;
  recorderGroup: string;
}

/** Decides which events a client sees; learns the task runs and subflows of its run as they appear. */
export class RunEventFilter {
  private readonly flowRuns: Set<string>;
  private readonly taskRuns: Set<string>;

  constructor(
    private readonly flowRunId: string | undefined,
    knownTaskRunIds: string[] = [],
  ) {
    this.flowRuns = new Set(flowRunId ? [flowRunId] : []);
    this.taskRuns = new Set(knownTaskRunIds);
  }

  /** The client's view of `event`, or null when it is not for this client. */
  accept(event: RunEvent): ApiFeedEvent | null {
    const all = this.flowRunId === undefined;
    switch (event.kind) {
      case "flow_run_created": {
        const { id, parentTaskRunId } = event.flowRun;
        if (!all && !(parentTaskRunId && this.taskRuns.has(parentTaskRunId))) return null;
        this.flowRuns.add(id);
        return { kind: event.kind, id: event.id, flow_run_id: id, parent_task_run_id: parentTaskRunId };
      }
      case "task_run_created": {
        const { id, flowRunId } = event.taskRun;
        if (!all && !(flowRunId && this.flowRuns.has(flowRunId))) return null;
        this.taskRuns.add(id);
        return { kind: event.kind, id: event.id, task_run_id: id, flow_run_id: flowRunId };
      }
      case "state":
      case "state_written": {
        const known = event.runKind === "flow_run" ? this.flowRuns : this.taskRuns;
        if (!all && !known.has(event.runId)) return null;
        return {
          kind: "state",
          id: event.id,
          run_kind: event.runKind,
          run_id: event.runId,
          type: event.type,
          name: event.name,
          timestamp: event.timestamp,
        };
      }
      case "log": {
        if (all || !event.flowRunId || !this.flowRuns.has(event.flowRunId)) return null;
        return {
          kind: "log",
          id: event.id,
          flow_run_id: event.flowRunId,
          task_run_id: event.taskRunId,
          level: event.level,
          message: event.message,
          timestamp: event.timestamp,
        };
      }
      case "cache_entry":
        return null;
    }
  }
}

const eventsQuery = z.object({
  flow_run_id: uuid.optional(),
  /** Read by the auth hook (EventSource cannot send an Authorization header). */
  api_key: z.string().optional(),
});

export function eventRoutes(app: ZodApp, ctx: ApiContext, source: EventFeedSource): void {
  const open = new Set<() => void>();
  // Streams never end on their own: close them so the server can stop.
  app.addHook("preClose", async () => {
    for (const close of [...open]) close();
  });

  app.get(
    "/events",
    {
      schema: {
        tags: ["Events"],
        summary: "Live run events (Server-Sent Events); ?flow_run_id= for one run with its task runs and logs",
        querystring: eventsQuery,
      },
    },
    async (request, reply) => {
      const flowRunId = request.query.flow_run_id;
      const known = flowRunId ? (await listTaskRuns(ctx.db, { flowRunId })).map((run) => run.id) : [];
      const filter = new RunEventFilter(flowRunId, known);
      // Named, so an operator (and the tests) can see the open feeds in CLIENT LIST.
      const reader = source.redis.duplicate({
        lazyConnect: true,
        maxRetriesPerRequest: 1,
        enableAutoPipelining: false,
        connectionName: `${source.stream}-feed`,
      });
      reader.on("error", (error) => request.log.debug({ err: error }, "event feed reader error"));

      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        open.delete(close);
        reader.disconnect();
        reply.raw.end();
      };
      open.add(close);
      request.raw.on("close", close);

      reply.hijack();
      reply.raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      reply.raw.write("retry: 2000\n\n");

      try {
        await reader.connect();
        const resumeFrom = request.headers["last-event-id"];
        let lastId = typeof resumeFrom === "string" && resumeFrom ? resumeFrom : await newestId(reader, source.stream);
        // "ready" once the feed's start is fixed and recorded: a client that (re)fetches then misses
        // nothing (what came before is in Postgres, what comes after is in the feed).
        if (lastId !== "0-0") await waitUntilRecorded(source, lastId, () => closed);
        reply.raw.write("event: ready\ndata: {}\n\n");
        while (!closed) {
          const batch = (await reader.xread("COUNT", 500, "BLOCK", BLOCK_MS, "STREAMS", source.stream, lastId)) as
            | [string, [string, string[]][]][]
            | null;
          if (closed) break;
          const entries = batch?.[0]?.[1] ?? [];
          if (entries.length === 0) {
            reply.raw.write(": keep-alive\n\n");
            continue;
          }
          const last = entries[entries.length - 1]?.[0] ?? lastId;
          await waitUntilRecorded(source, last, () => closed);
          for (const [id, fields] of entries) {
            const payload = fieldValue(fields, EVENT_FIELD);
            if (payload === undefined) continue;
            let events: RunEvent[];
            try {
              events = decodeEvents(payload);
            } catch {
              continue; // the recorder reports malformed entries; the feed skips them
            }
            const accepted = events.flatMap((event) => filter.accept(event) ?? []);
            if (accepted.length > 0) reply.raw.write(`id: ${id}\ndata: ${JSON.stringify(accepted)}\n\n`);
          }
          lastId = last;
        }
      } catch (error) {
        if (!closed) request.log.warn({ err: error }, "event feed stopped");
      } finally {
        close();
      }
    },
  );
}

/** The id of the stream's newest entry ("0-0" when empty): the feed starts after it. */
async function newestId(redis: Redis, stream: string): Promise<string> {
  const [newest] = (await redis.xrevrange(stream, "+", "-", "COUNT", 1)) as [string, string[]][];
  return newest?.[0] ?? "0-0";
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/** Waits (briefly) until the recorders have committed every entry up to `id`. */
async function waitUntilRecorded(source: EventFeedSource, id: string, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + MAX_RECORD_WAIT_MS;
  while (!stopped() && Date.now() < deadline) {
    const recorded = await isRecordedUpTo(source.redis, source.stream, source.recorderGroup, id).catch(() => false);
    if (recorded) return;
    await new Promise((resolve) => setTimeout(resolve, RECORD_CHECK_MS));
  }
}
