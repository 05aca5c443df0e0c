/** The spans of a chunk job's task runs: one consumer span per chunk (per trace), the runs' own spans under it. */
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  consumeChunkJob,
  jobsInProgress,
  recordStateOnSpan,
  runSpanOf,
  setTracingEnabled,
  startBatchProducerSpan,
  type TraceCarrier,
  withRunSpan,
} from "../src/index.js";

const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  setTracingEnabled(true);
});
afterAll(() => {
  setTracingEnabled(false);
  trace.disable();
  propagation.disable();
  context.disable();
});

it("puts a chunk's runs under one process span per trace, each run's span with only its own attributes", async () => {
  const producers = ["flow a", "flow b"].map((name) => {
    const parent = trace.setSpan(context.active(), trace.getTracer("test").startSpan(name));
    return startBatchProducerSpan("task-runs.pool", parent, ["r1", "r2"]);
  });
  const [a, b] = producers.map((producer) => producer.traceContext) as [TraceCarrier, TraceCarrier];
  const runs = [
    { id: "r1", traceContext: a, fails: false },
    { id: "r2", traceContext: b, fails: true },
    { id: "r3", traceContext: a, fails: false },
  ];
  let during = 0;
  const outcomes = await consumeChunkJob(
    { queueName: "task-runs.pool", queue: "task-runs", pool: "pool", jobId: "chunk-r1", readyAt: Date.now() - 40 },
    runs,
    (run) => run.traceContext,
    (run) =>
      withRunSpan("task_run", "noop", { "sluice.task.name": "noop" }, async () => {
        during = Math.max(during, jobsInProgress["task-runs"]);
        const span = runSpanOf("task_run") as Span;
        recordStateOnSpan(span, "Running", "RUNNING", null);
        recordStateOnSpan(span, "Completed", "COMPLETED", null);
        if (run.fails) throw new Error(`could not reply for ${run.id}`);
        return run.id;
      }),
  );
  for (const producer of producers) producer.end();

  expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect(during).toBe(3);
  expect(jobsInProgress["task-runs"]).toBe(0);
  const spans = exporter.getFinishedSpans();
  const sends = spans.filter((span) => span.name === "send task-runs.pool");
  const processes = spans.filter((span) => span.name === "process task-runs.pool");
  expect(processes).toHaveLength(2);
  for (const process of processes) {
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.attributes).toMatchObject({
      "messaging.system": "bullmq",
      "messaging.operation.type": "process",
      "messaging.destination.name": "task-runs.pool",
      "messaging.message.id": "chunk-r1",
    });
    expect(process.attributes["sluice.queue.wait_ms"]).toBeGreaterThanOrEqual(40);
    const send = sends.find((span) => span.spanContext().spanId === process.parentSpanContext?.spanId);
    expect(send?.spanContext().traceId).toBe(process.spanContext().traceId);
    const children = spans.filter((span) => span.parentSpanContext?.spanId === process.spanContext().spanId);
    expect(children).toHaveLength(Number(process.attributes["sluice.task_run.count"]));
    for (const child of children) {
      expect(child.kind).toBe(SpanKind.INTERNAL);
      expect(child.attributes).toEqual({ "sluice.task.name": "noop", "sluice.state.name": "Completed" });
      expect(child.events.map((event) => event.name).slice(0, 2)).toEqual(["Running", "Completed"]);
    }
    // The trace with the run that could not be processed (b's) is the failed one.
    const failed = children.length === 1;
    expect(process.status.code).toBe(failed ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
  }
  expect(processes.map((span) => span.attributes["sluice.task_run.count"]).sort()).toEqual([1, 2]);
});
