/** Flows for the tracing tests: a retried task, a task opening its own span, queued task runs. */
import { trace } from "@opentelemetry/api";
import { flow, getRunContext, task } from "@sluice/sdk";
import { z } from "zod";

/** Fails on its first attempt, succeeds on its second. */
export const flaky = task({ name: "flaky", retries: 2, retryDelaySeconds: 0 }, async () => {
  const attempt = getRunContext().taskRun?.runCount ?? 0;
  if (attempt < 2) throw new Error(`flaky attempt ${attempt} failed`);
  return attempt;
});

/**
 * Opens a span of its own with @opentelemetry/api, and calls the API with fetch(): both nest under
 * the task run's attempt (and the API's request span under the fetch span, across processes).
 */
export const instrumented = task({ name: "instrumented" }, async (n: number) => {
  const response = await fetch(`${process.env.SLUICE_API_URL}/flows/filter`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  await response.json();
  return trace.getTracer("user-code").startActiveSpan("user work", async (span) => {
    span.setAttribute("n", n);
    span.end();
    return n + 1;
  });
});

export const double = task({ name: "double" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return n * 2;
});

export const tracedFlow = flow({ name: "Traced Flow" }, async () => {
  const retried = await flaky();
  const own = await instrumented(1);
  const queued = await double.submit(3);
  return { retried, own, queued };
});

export const tracedMapFlow = flow(
  { name: "Traced Map", parameters: z.object({ count: z.number().int().default(48) }) },
  async ({ count }) => double.map(Array.from({ length: count }, (_, i) => i)),
);
