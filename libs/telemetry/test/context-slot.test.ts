/**
 * Sluice's run context rides in OpenTelemetry's context while tracing is on and in a storage of
 * its own otherwise: either way a value reaches everything its `run` starts, and only that.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { node } from "@opentelemetry/sdk-node";
import { afterEach, describe, expect, it } from "vitest";
import { ContextSlot, setTracingEnabled } from "../src/index.js";

/** Two concurrent runs, each with a nested one, checked across awaits and timers. */
async function expectCarried(slot: ContextSlot<string>): Promise<void> {
  expect(slot.get()).toBeUndefined();
  const seen = await Promise.all(
    ["a", "b"].map((name) =>
      slot.run(name, async () => {
        await sleep(5);
        const inner = await slot.run(`${name}/inner`, async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          return slot.get();
        });
        await null;
        return [slot.get(), inner];
      }),
    ),
  );
  expect(seen).toEqual([
    ["a", "a/inner"],
    ["b", "b/inner"],
  ]);
  expect(slot.get()).toBeUndefined();
}

describe("a context slot", () => {
  afterEach(() => {
    setTracingEnabled(false);
    trace.disable();
    context.disable();
  });

  it("carries its value with tracing off", async () => {
    await expectCarried(new ContextSlot("test.off"));
  });

  it("carries its value with tracing on, in OpenTelemetry's context", async () => {
    new node.NodeTracerProvider().register();
    setTracingEnabled(true);
    const slot = new ContextSlot<string>("test.on");
    await expectCarried(slot);
    // A span started inside a run does not lose the run's value, and the value does not leak out.
    const tracer = trace.getTracer("test");
    const insideSpan = await slot.run("run", () =>
      tracer.startActiveSpan("user span", async (span) => {
        await sleep(1);
        span.end();
        return slot.get();
      }),
    );
    expect(insideSpan).toBe("run");
    // It rides in OpenTelemetry's context, not in a storage of its own: code run in the root context does not see it.
    expect(await slot.run("run", async () => context.with(ROOT_CONTEXT, () => slot.get()))).toBeUndefined();
  });

  it("falls back to its own storage when tracing is on without a context manager", async () => {
    setTracingEnabled(true);
    await expectCarried(new ContextSlot("test.no-manager"));
  });

  it("still finds a value set before tracing was switched on", async () => {
    const slot = new ContextSlot<string>("test.switch");
    new node.NodeTracerProvider().register();
    await slot.run("before", async () => {
      setTracingEnabled(true);
      await sleep(1);
      expect(slot.get()).toBe("before");
    });
  });
});
