/**
 * Traces and metrics through real processes: a server and workers exporting OTLP/JSON to a
 * receiver in the test, `/metrics` scraped and parsed, and tracing left off without OTEL_*.
 */
import type { ApiFlowRun } from "@sluice/client";
import { afterEach, describe, expect, it } from "vitest";
import { runSluice } from "../../../examples/test/run-cli.js";
import { startTestCluster, type TestCluster, waitFor } from "./cluster-processes.js";
import { type OtlpReceiver, otelEnvFor, type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from "./otlp-receiver.js";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

const FLOWS = "services/cli/test/flows";
const POOL = "default-agent-pool";

let cluster: TestCluster | undefined;
let receiver: OtlpReceiver | undefined;

afterEach(async () => {
  await cluster?.close();
  await receiver?.close();
  cluster = undefined;
  receiver = undefined;
});

async function runDeployment(c: TestCluster, flowName: string, deploymentName: string): Promise<ApiFlowRun> {
  const deployment = await c.client.readDeploymentByName(flowName, deploymentName);
  const created = await c.client.createFlowRunFromDeployment(deployment.id);
  const final = await waitFor(
    `the run of ${flowName} to finish`,
    async () => {
      const run = await c.client.readFlowRun(created.id);
      return run.state_type === "COMPLETED" || run.state_type === "FAILED" ? run : undefined;
    },
    60_000,
  );
  expect(final.state_name).toBe("Completed");
  return { ...final, trace_id: final.trace_id ?? created.trace_id };
}

/** The one span named `name` (among `spans`) whose parent is `parent`. */
function childNamed(spans: ReceivedSpan[], parent: ReceivedSpan, name: string): ReceivedSpan {
  const found = spans.filter((span) => span.parentSpanId === parent.spanId && span.name === name);
  expect(
    found.map((span) => span.name),
    `one '${name}' under '${parent.name}'`,
  ).toEqual([name]);
  return found[0] as ReceivedSpan;
}

describe("traces", () => {
  it("a deployment run executed by a worker process is one trace, from the API request down to each attempt", async () => {
    receiver = await startOtlpReceiver();
    const otel = otelEnvFor(receiver);
    cluster = await startTestCluster(["server", "start"], otel);
    const worker = cluster.worker("w1", { flows: FLOWS, env: { ...otel, LOG_LEVEL: "info" } });
    expect((await runSluice(["deploy", `${FLOWS}/deploy-traced.ts`], cluster.env)).code).toBe(0);
    await waitFor("the worker", async () => (await cluster?.client.filterWorkers(POOL))?.length === 1);

    const run = await runDeployment(cluster, "Traced Flow", "traced");
    const traceId = run.trace_id;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const r = receiver;
    // Every span asserted below: a parent ends (and is exported) after its children, maybe in a later batch.
    const expected = [
      "POST /api/deployments/:id/create_flow_run",
      `send flow-runs.${POOL}`,
      `process flow-runs.${POOL}`,
      "flow_run Traced Flow",
      "task_run flaky",
      "task_run instrumented",
      "user work",
      "POST /api/flows/filter",
      `send task-runs.${POOL}`,
      "task_run double",
    ];
    const spans = await waitFor("the run's spans", async () => {
      const inTrace = r.spans.filter((span) => span.traceId === traceId);
      const names = new Set(inTrace.map((span) => span.name));
      return expected.every((name) => names.has(name)) ? inTrace : undefined;
    });

    // API process → queue → worker process, one trace.
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(["sluice-api", "sluice-worker"]));
    const request = spans.find((span) => span.name === "POST /api/deployments/:id/create_flow_run") as ReceivedSpan;
    expect(request.kind).toBe(SPAN_KIND.server);
    expect(request.service).toBe("sluice-api");
    expect(request.attributes["http.route"]).toBe("/api/deployments/:id/create_flow_run");
    const enqueue = childNamed(spans, request, `send flow-runs.${POOL}`);
    expect(enqueue.kind).toBe(SPAN_KIND.producer);
    expect(enqueue.attributes["messaging.destination.name"]).toBe(`flow-runs.${POOL}`);
    expect(enqueue.attributes["messaging.message.id"]).toBe(run.id);
    const consume = childNamed(spans, enqueue, `process flow-runs.${POOL}`);
    expect(consume.kind).toBe(SPAN_KIND.consumer);
    expect(consume.service).toBe("sluice-worker");
    expect(consume.resource["sluice.work_pool.name"]).toBe(POOL);
    expect(consume.resource["sluice.worker.name"]).toBe("w1");
    expect(typeof consume.attributes["sluice.queue.wait_ms"]).toBe("number");

    const flowSpan = childNamed(spans, consume, "flow_run Traced Flow");
    expect(flowSpan.attributes["sluice.flow_run.id"]).toBe(run.id);
    expect(flowSpan.events.map((event) => event.name)).toEqual(["Pending", "Running", "Completed"]);
    expect(flowSpan.attributes["sluice.state.name"]).toBe("Completed");
    // A run without retries is one attempt: no attempt span, its work nests under the run's span.
    expect(spans.filter((span) => span.parentSpanId === flowSpan.spanId && span.name.startsWith("attempt"))).toEqual(
      [],
    );

    // The retried task: one span per attempt, the first failed with its exception recorded.
    const flaky = childNamed(spans, flowSpan, "task_run flaky");
    expect(flaky.events.map((event) => event.name)).toEqual([
      "Pending",
      "Running",
      "AwaitingRetry",
      "Retrying",
      "Completed",
    ]);
    const failed = childNamed(spans, flaky, "attempt 1");
    expect(failed.statusCode).toBe(2);
    const exception = failed.events.find((event) => event.name === "exception");
    expect(exception?.attributes["exception.message"]).toBe("flaky attempt 1 failed");
    expect(childNamed(spans, flaky, "attempt 2").statusCode).not.toBe(2);

    // The user's own span nests under the task run (it has no retries: no attempt span between).
    const instrumented = childNamed(spans, flowSpan, "task_run instrumented");
    const userSpan = childNamed(spans, instrumented, "user work");
    expect(userSpan.attributes.n).toBe(1);
    // Its fetch() call: a CLIENT span, and the API's request span under it in the other process.
    const call = childNamed(spans, instrumented, "POST");
    expect(call.kind).toBe(SPAN_KIND.client);
    expect(call.attributes["url.full"]).toBe(`${cluster.env.SLUICE_API_URL}/flows/filter`);
    expect(call.attributes["http.response.status_code"]).toBe(200);
    expect(childNamed(spans, call, "POST /api/flows/filter").service).toBe("sluice-api");

    // A queued task run: enqueued by the flow, consumed (maybe by another process), same trace.
    const sendTask = childNamed(spans, flowSpan, `send task-runs.${POOL}`);
    // The task run's span is its job's consumer span (no separate `process` span).
    const double = childNamed(spans, sendTask, "task_run double");
    expect(double.kind).toBe(SPAN_KIND.consumer);
    expect(double.attributes["messaging.destination.name"]).toBe(`task-runs.${POOL}`);
    expect(typeof double.attributes["sluice.queue.wait_ms"]).toBe("number");
    expect(double.events.map((event) => event.name)).toEqual(["Pending", "Running", "Completed"]);
    expect(spans.filter((span) => span.name === `process task-runs.${POOL}`)).toEqual([]);

    // The run records its trace; the CLI shows it.
    const { rows } = await cluster.pool.query<{ trace_id: string }>("SELECT trace_id FROM flow_runs WHERE id = $1", [
      run.id,
    ]);
    expect(rows[0]?.trace_id).toBe(traceId);
    const inspect = await runSluice(["flow-run", "inspect", run.id], cluster.env);
    expect(inspect.stdout).toContain(`Trace ID    ${traceId}`);
    // The worker's log lines written inside the run's spans carry the trace and span ids.
    const logLine = worker
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg?: string; trace_id?: string; span_id?: string })
      .find((line) => line.msg === "running flow run");
    expect(logLine?.trace_id).toBe(traceId);
    expect(logLine?.span_id).toBe(consume.spanId);
  }, 120_000);

  it("a .map() whose items run on two worker processes is one trace", async () => {
    receiver = await startOtlpReceiver();
    const otel = otelEnvFor(receiver);
    cluster = await startTestCluster(["server", "start"], otel);
    for (const name of ["w1", "w2"]) cluster.worker(name, { flows: FLOWS, taskLimit: 2, env: otel });
    expect((await runSluice(["deploy", `${FLOWS}/deploy-traced.ts`], cluster.env)).code).toBe(0);
    await waitFor("two workers", async () => (await cluster?.client.filterWorkers(POOL))?.length === 2);

    const run = await runDeployment(cluster, "Traced Map", "traced-map");
    const r = receiver;
    // The flow's span ends after its task runs' (and may be exported in a later batch): wait for both.
    const [taskSpans, flowSpan] = await waitFor("48 task run spans and the flow run's", async () => {
      const found = r.spans.filter((span) => span.name === "task_run double");
      const flow = r.spans.find((span) => span.name === "flow_run Traced Map");
      return found.length === 48 && flow ? ([found, flow] as const) : undefined;
    });
    expect(new Set(taskSpans.map((span) => span.traceId))).toEqual(new Set([run.trace_id]));
    expect(new Set(taskSpans.map((span) => span.resource["sluice.worker.name"]))).toEqual(new Set(["w1", "w2"]));
    expect(flowSpan.traceId).toBe(run.trace_id);
    // The 48 runs went in one batch of 16 chunk jobs: one `send` span under the flow run, a `process`
    // (consumer) span per chunk job under it, and the chunk's task run spans under that one.
    const send = childNamed(r.spans, flowSpan, `send task-runs.${POOL}`);
    expect(send.kind).toBe(SPAN_KIND.producer);
    expect(send.attributes["messaging.batch.message_count"]).toBe(48);
    const chunks = await waitFor("the chunks' process spans", async () => {
      const found = r.spans.filter(
        (span) => span.name === `process task-runs.${POOL}` && span.traceId === run.trace_id,
      );
      const runs = found.reduce((sum, span) => sum + Number(span.attributes["sluice.task_run.count"]), 0);
      return runs === 48 ? found : undefined;
    });
    expect(chunks).toHaveLength(16);
    for (const chunk of chunks) {
      expect(chunk.parentSpanId).toBe(send.spanId);
      expect(chunk.kind).toBe(SPAN_KIND.consumer);
      expect(chunk.attributes["messaging.destination.name"]).toBe(`task-runs.${POOL}`);
      expect(typeof chunk.attributes["sluice.queue.wait_ms"]).toBe("number");
      const runs = taskSpans.filter((span) => span.parentSpanId === chunk.spanId);
      expect(runs).toHaveLength(Number(chunk.attributes["sluice.task_run.count"]));
      for (const taskSpan of runs) {
        expect(taskSpan.kind).toBe(SPAN_KIND.internal);
        expect(taskSpan.attributes["messaging.destination.name"]).toBeUndefined();
        expect(taskSpan.attributes["sluice.state.name"]).toBe("Completed");
        expect(taskSpan.events.map((event) => event.name)).toEqual(["Pending", "Running", "Completed"]);
      }
    }
  }, 120_000);

  it("with no OTEL_* exporter (or OTEL_SDK_DISABLED=true) nothing is exported and runs record no trace", async () => {
    receiver = await startOtlpReceiver();
    // Disabled although an endpoint is given: the SDK must not start.
    const disabled = { ...otelEnvFor(receiver), OTEL_SDK_DISABLED: "true" };
    cluster = await startTestCluster(["server", "start"], disabled);
    cluster.worker("w1", { flows: FLOWS, env: disabled });
    expect((await runSluice(["deploy", `${FLOWS}/deploy-traced.ts`], cluster.env)).code).toBe(0);
    await waitFor("the worker", async () => (await cluster?.client.filterWorkers(POOL))?.length === 1);
    const run = await runDeployment(cluster, "Traced Flow", "traced");
    expect(run.trace_id ?? null).toBeNull();
    // `sluice run` with no OTEL_* variable at all, in this test's cluster.
    const noOtel = Object.fromEntries(
      Object.keys(process.env)
        .filter((k) => k.startsWith("OTEL_"))
        .map((k) => [k, undefined]),
    );
    const local = await runSluice(["run", `${FLOWS}/traced.ts:tracedFlow`], { ...cluster.env, ...noOtel });
    expect(local.code).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests).toBe(0);
    const { rows } = await cluster.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM flow_runs WHERE trace_id IS NOT NULL",
    );
    expect(rows[0]?.n).toBe(0);

    // The same short `sluice run` with an exporter: its spans are all sent before it exits (the
    // default batch delay, 5 s, is longer than the run: only the flush on exit sends them).
    const traced = await runSluice(["run", `${FLOWS}/traced.ts:tracedFlow`], {
      ...cluster.env,
      ...noOtel,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    expect(traced.code).toBe(0);
    const flowSpan = receiver.spans.find((span) => span.name === "flow_run Traced Flow");
    expect(flowSpan?.service).toBe("sluice-cli");
    const inTrace = receiver.spans.filter((span) => span.traceId === flowSpan?.traceId).map((span) => span.name);
    expect(inTrace).toEqual(expect.arrayContaining(["task_run flaky", "task_run instrumented", "task_run double"]));
    const { rows: recorded } = await cluster.pool.query<{ trace_id: string }>(
      "SELECT trace_id FROM flow_runs WHERE trace_id IS NOT NULL",
    );
    expect(recorded.map((row) => row.trace_id)).toEqual([flowSpan?.traceId]);
  }, 120_000);
});

describe("metrics", () => {
  it("/metrics on the API and on a worker parse as Prometheus text, and the run counters move", async () => {
    cluster = await startTestCluster();
    const worker = cluster.sluice([
      "worker",
      "start",
      "--pool",
      POOL,
      "--flows",
      FLOWS,
      "--name",
      "w1",
      "--metrics-port",
      "0",
    ]);
    const port = await waitFor("the worker's metrics port", async () =>
      Number(/metrics at http:\/\/0\.0\.0\.0:(\d+)\/metrics/.exec(worker.output())?.[1] ?? 0),
    );
    expect((await runSluice(["deploy", `${FLOWS}/deploy-traced.ts`], cluster.env)).code).toBe(0);
    const scrape = async (url: string) => {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      return parsePrometheusText(await response.text());
    };
    const workerUrl = `http://127.0.0.1:${port}/metrics`;
    const before = await scrape(workerUrl);
    expect(sampleValue(before, "sluice_flow_runs_finished_total", { flow: "Traced Flow", state: "Completed" })).toBe(
      undefined,
    );
    expect(sampleValue(before, "sluice_worker_slots", { pool: POOL, queue: "flow-runs" })).toBe(10);

    await runDeployment(cluster, "Traced Flow", "traced");
    const after = await waitFor("the worker's counters", async () => {
      const metrics = await scrape(workerUrl);
      return sampleValue(metrics, "sluice_flow_runs_finished_total", { flow: "Traced Flow", state: "Completed" }) === 1
        ? metrics
        : undefined;
    });
    expect(after.types.get("sluice_flow_runs_finished_total")).toBe("counter");
    expect(sampleValue(after, "sluice_task_runs_finished_total", { task: "flaky", state: "Completed" })).toBe(1);
    expect(sampleValue(after, "sluice_task_runs_finished_total", { task: "double", state: "Completed" })).toBe(1);
    expect(after.types.get("sluice_task_run_duration_seconds")).toBe("histogram");
    expect(sampleValue(after, "sluice_task_run_duration_seconds_count", { task: "flaky", state: "Completed" })).toBe(1);
    expect(
      sampleValue(after, "sluice_flow_run_duration_seconds_bucket", {
        flow: "Traced Flow",
        state: "Completed",
        le: "+Inf",
      }),
    ).toBe(1);
    expect(sampleValue(after, "sluice_queue_wait_seconds_count", { pool: POOL, queue: "flow-runs" })).toBe(1);
    expect(sampleValue(after, "sluice_queue_wait_seconds_count", { pool: POOL, queue: "task-runs" })).toBe(1);
    expect(sampleValue(after, "sluice_queue_jobs", { pool: POOL, queue: "flow-runs", state: "waiting" })).toBe(0);
    expect(after.types.get("sluice_nodejs_eventloop_lag_seconds")).toBe("gauge");

    const api = await scrape(`${cluster.env.SLUICE_API_URL?.replace(/\/api$/, "")}/metrics`);
    expect(sampleValue(api, "sluice_workers_online", { pool: POOL })).toBe(1);
    expect(sampleValue(api, "sluice_queue_jobs", { pool: POOL, queue: "task-runs", state: "active" })).toBe(0);
    expect(sampleValue(api, "sluice_queue_oldest_waiting_job_age_seconds", { pool: POOL, queue: "flow-runs" })).toBe(0);
    expect(typeof sampleValue(api, "sluice_recorder_pending_events", {})).toBe("number");
    expect(typeof sampleValue(api, "sluice_recorder_oldest_unacked_event_age_seconds", {})).toBe("number");
    expect(api.types.get("sluice_nodejs_eventloop_lag_seconds")).toBe("gauge");
  }, 120_000);
});
