/**
 * What the monitoring UI needs from the API: the live run-event feed (Server-Sent Events on
 * GET /api/events, narrowed to a run, behind the API key, its Redis reader closed with the client),
 * the run state history, and the built UI served at / with the SPA fallback.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunEvent } from "@sluice/core";
import { encodeEvents, redisKeys } from "@sluice/queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createDeployment, startApi } from "./support.js";

const RUN = "0b6b2f6e-0000-4000-8000-000000000001";
const TASK = "0b6b2f6e-0000-4000-8000-000000000002";
const OTHER = "0b6b2f6e-0000-4000-8000-000000000003";

function state(runKind: "flow_run" | "task_run", runId: string, name: "Running" | "Completed"): RunEvent {
  return {
    kind: "state",
    id: crypto.randomUUID(),
    runKind,
    runId,
    timestamp: new Date().toISOString(),
    type: name === "Running" ? "RUNNING" : "COMPLETED",
    name,
    message: null,
    runCount: 1,
  };
}

/** Reads the SSE stream until `done` says enough, returning the data events parsed. */
/** The feed's run events; `onReady` when the server says its feed has started (`event: ready`). */
async function readEvents(
  response: Response,
  done: (events: { kind: string; [key: string]: unknown }[]) => boolean,
  onReady: () => void = () => {},
) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const events: { kind: string; [key: string]: unknown }[] = [];
  while (!done(events)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += decoder.decode(value, { stream: true });
    let end = text.indexOf("\n\n");
    while (end >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const lines = block.split("\n");
      const data = lines.find((line) => line.startsWith("data: "));
      if (lines.includes("event: ready")) onReady();
      else if (data) events.push(...JSON.parse(data.slice(6)));
      end = text.indexOf("\n\n");
    }
  }
  return events;
}

async function feedConnections(api: ApiHarness): Promise<number> {
  const list = (await api.ctx.redis.client("LIST")) as string;
  return list.split("\n").filter((line) => line.includes(`name=${redisKeys(api.ctx.prefix).eventStream}-feed`)).length;
}

describe("GET /api/events", () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ uiDir: null });
  });
  afterAll(() => api.close());

  it("streams one run's states, task runs and logs, not other runs', and closes its reader with the client", async () => {
    const abort = new AbortController();
    const response = await fetch(`${api.baseUrl}/api/events?flow_run_id=${RUN}`, { signal: abort.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    let ready = () => {};
    const started = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const reading = readEvents(response, (events) => events.some((event) => event.kind === "log"), ready);
    await started; // events written from now on are in the feed
    expect(await feedConnections(api)).toBe(1);

    const stream = redisKeys(api.ctx.prefix).eventStream;
    const events: RunEvent[] = [
      state("flow_run", OTHER, "Running"),
      state("flow_run", RUN, "Running"),
      {
        kind: "task_run_created",
        id: crypto.randomUUID(),
        timestamp: new Date().toISOString(),
        taskRun: {
          id: TASK,
          name: "extract_data-0",
          flowRunId: RUN,
          taskKey: "extract_data",
          dynamicKey: "0",
          cacheKey: null,
          cacheExpiration: null,
          tags: [],
          taskInputs: {},
          expectedStartTime: new Date().toISOString(),
        },
      },
      state("task_run", TASK, "Completed"),
      {
        kind: "log",
        id: crypto.randomUUID(),
        timestamp: new Date().toISOString(),
        flowRunId: RUN,
        taskRunId: TASK,
        name: "sluice.task_runs",
        level: "INFO",
        message: "Extracted 12 records",
      },
    ];
    await api.ctx.redis.xadd(stream, "*", "e", encodeEvents(events));

    const received = await reading;
    expect(received).toEqual([
      expect.objectContaining({ kind: "state", run_kind: "flow_run", run_id: RUN, name: "Running" }),
      expect.objectContaining({ kind: "task_run_created", task_run_id: TASK, flow_run_id: RUN }),
      expect.objectContaining({ kind: "state", run_kind: "task_run", run_id: TASK, name: "Completed" }),
      expect.objectContaining({ kind: "log", flow_run_id: RUN, level: "INFO", message: "Extracted 12 records" }),
    ]);

    abort.abort();
    await expect.poll(() => feedConnections(api)).toBe(0);
  });

  it("tells every-run views of the states the API writes itself: a new deployment run, its cancel", async () => {
    const abort = new AbortController();
    const response = await fetch(`${api.baseUrl}/api/events`, { signal: abort.signal });
    let ready = () => {};
    const started = new Promise<void>((resolve) => {
      ready = resolve;
    });
    let runId = "";
    const reading = readEvents(
      response,
      (events) => events.some((event) => event.run_id === runId && event.name === "Cancelled"),
      ready,
    );
    await started;
    // No worker runs here: nothing but the API itself can tell the feed of these.
    const deployment = await createDeployment(api);
    const run = await api.call("POST", `/api/deployments/${deployment.id}/create_flow_run`, {});
    runId = run.body.id;
    const cancel = await api.call("POST", `/api/flow_runs/${runId}/set_state`, { state: { type: "CANCELLING" } });
    expect(cancel.body.status).toBe("ACCEPT");

    const received = (await reading).filter((event) => event.run_id === runId);
    expect(received.map((event) => [event.kind, event.run_kind, event.name])).toEqual([
      ["state", "flow_run", "Scheduled"],
      ["state", "flow_run", "Cancelling"],
      ["state", "flow_run", "Cancelled"],
    ]);
    abort.abort();
  });

  it("does not keep the server from stopping while a client is connected", async () => {
    const other = await startApi({ uiDir: null });
    const feed = await fetch(`${other.baseUrl}/api/events`);
    expect(feed.status).toBe(200);
    await expect.poll(() => feedConnections(other)).toBe(1);
    const started = Date.now();
    await other.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    await feed.body?.cancel().catch(() => {});
  });

  it("answers 422 for a flow_run_id that is not a uuid", async () => {
    const { status, body } = await api.call("GET", "/api/events?flow_run_id=nope");
    expect(status).toBe(422);
    expect(body.detail[0].loc).toEqual(["query", "flow_run_id"]);
  });
});

describe("the UI at / and the API key", () => {
  let api: ApiHarness;
  let uiDir: string;
  beforeAll(async () => {
    uiDir = mkdtempSync(join(tmpdir(), "sluice-ui-"));
    mkdirSync(join(uiDir, "assets"));
    writeFileSync(join(uiDir, "index.html"), "<!doctype html><title>Sluice</title>");
    writeFileSync(join(uiDir, "assets", "app-1234.js"), "console.log(1)");
    api = await startApi({ apiKey: "k3y", uiDir });
  });
  afterAll(async () => {
    await api.close();
    rmSync(uiDir, { recursive: true, force: true });
  });

  it("serves the app without a key, with index.html for deep links and long-cached assets", async () => {
    for (const path of ["/", "/flow-runs/0b6b2f6e-0000-4000-8000-000000000001", "/deployments?x=1"]) {
      const page = await api.call("GET", path);
      expect(page.status, path).toBe(200);
      expect(page.text).toContain("<title>Sluice</title>");
    }
    const asset = await fetch(`${api.baseUrl}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
  });

  it("leaves /api and /docs to the API", async () => {
    expect(await api.call("GET", "/api/nothing-here", undefined, { authorization: "Bearer k3y" })).toMatchObject({
      status: 404,
      body: { detail: "Not Found" },
    });
    expect((await api.call("GET", "/docs/json")).status).toBe(200);
    expect((await api.call("POST", "/api/flows/filter", {})).status).toBe(401);
    expect((await api.call("GET", "/api/ui/settings")).status).toBe(401);
    expect(await api.call("GET", "/api/ui/settings", undefined, { authorization: "Bearer k3y" })).toMatchObject({
      status: 200,
      body: { trace_ui_url: null },
    });
  });

  it("takes the key as ?api_key= on /api/events only (EventSource sends no header)", async () => {
    expect((await api.call("POST", "/api/flows/filter?api_key=k3y", {})).status).toBe(401);
    expect((await fetch(`${api.baseUrl}/api/events?api_key=wrong`)).status).toBe(401);
    const abort = new AbortController();
    const feed = await fetch(`${api.baseUrl}/api/events?api_key=k3y`, { signal: abort.signal });
    expect(feed.status).toBe(200);
    abort.abort();
  });
});
