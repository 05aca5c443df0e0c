/** Without an OTEL_* exporter, telemetry loads nothing and Sluice's span helpers create no span. */
import { createRequire } from "node:module";
import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import {
  consumeJob,
  currentTraceId,
  isTracingEnabled,
  jobsInProgress,
  runSpanOf,
  startTelemetry,
  traceLogFields,
  tracingConfigured,
  withAttemptSpan,
  withProducerSpan,
  withRunSpan,
} from "../src/index.js";

describe("tracingConfigured", () => {
  it("is on only with an exporter, and off when the SDK is disabled", () => {
    expect(tracingConfigured({})).toBe(false);
    expect(tracingConfigured({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toBe(false);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "console" })).toBe(true);
    expect(tracingConfigured({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(
      false,
    );
    expect(tracingConfigured({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" })).toBe(false);
  });
});

describe("with no OTEL_* variables", () => {
  it("creates no SDK, no exporter, and no span", async () => {
    const telemetry = await startTelemetry({ serviceName: "sluice-test", env: {} });
    expect(telemetry.enabled).toBe(false);
    expect(isTracingEnabled()).toBe(false);
    // The SDK (and with it every exporter and instrumentation) was never even loaded.
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(
      loaded.filter((path) => /@opentelemetry[\\/](sdk-node|sdk-trace-base|exporter-|instrumentation)/.test(path)),
    ).toEqual([]);
    // The API's global tracer is still the no-op one.
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);

    const inside = await withRunSpan("flow_run", "f", {}, () =>
      withAttemptSpan(1, async () => ({
        active: trace.getActiveSpan(),
        runSpan: runSpanOf("flow_run"),
        traceId: currentTraceId(),
        logFields: traceLogFields(),
      })),
    );
    expect(inside).toEqual({ active: undefined, runSpan: undefined, traceId: undefined, logFields: {} });

    let carrier: unknown = "not called";
    await withProducerSpan("flow-runs.p", "job", async (traceContext) => {
      carrier = traceContext;
    });
    expect(carrier).toBeUndefined();

    let during = -1;
    await consumeJob(
      { queueName: "task-runs.p", queue: "task-runs", pool: "p", jobId: "j", readyAt: Date.now() },
      async () => {
        during = jobsInProgress["task-runs"];
        return trace.getActiveSpan();
      },
    ).then((active) => expect(active).toBeUndefined());
    expect(during).toBe(1);
    expect(jobsInProgress["task-runs"]).toBe(0);
    await telemetry.shutdown();
  });
});
