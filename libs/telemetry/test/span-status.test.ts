/** Which errors mark Sluice's spans failed: a real failure does, a run leaving to wait for a slot does not. */
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NOT_A_FAILURE, setTracingEnabled, withSpan } from "../src/index.js";

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  setTracingEnabled(true);
});
afterAll(() => {
  setTracingEnabled(false);
  trace.disable();
});

it("a thrown error marks the span ERROR with the exception, unless it is marked NOT_A_FAILURE", async () => {
  const parked = Object.assign(new Error("parked until a slot frees"), { [NOT_A_FAILURE]: true });
  await expect(withSpan("parks", {}, () => Promise.reject(parked))).rejects.toBe(parked);
  await expect(withSpan("fails", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");

  const spans = Object.fromEntries(exporter.getFinishedSpans().map((span) => [span.name, span]));
  expect(spans.parks?.status.code).toBe(SpanStatusCode.UNSET);
  expect(spans.parks?.events).toHaveLength(0);
  expect(spans.fails?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "boom" });
  expect(spans.fails?.events.map((event) => event.name)).toEqual(["exception"]);
});
