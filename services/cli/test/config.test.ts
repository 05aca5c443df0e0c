import { ConfigurationError } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";

describe("the CLI's environment", () => {
  it("lets the heap grow 50% past its live size unless SLUICE_HEAP_GROWING_PERCENT says otherwise", () => {
    expect(loadConfig({}).heapGrowingPercent).toBe(50);
    expect(loadConfig({ SLUICE_HEAP_GROWING_PERCENT: "0" }).heapGrowingPercent).toBe(0);
    expect(loadConfig({ SLUICE_HEAP_GROWING_PERCENT: "20" }).heapGrowingPercent).toBe(20);
  });

  it("leaves the heap's growth to V8 when tracing is on, unless SLUICE_HEAP_GROWING_PERCENT is set", () => {
    const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(loadConfig(traced).heapGrowingPercent).toBe(0);
    expect(loadConfig({ ...traced, SLUICE_HEAP_GROWING_PERCENT: "50" }).heapGrowingPercent).toBe(50);
    expect(loadConfig({ ...traced, OTEL_SDK_DISABLED: "true" }).heapGrowingPercent).toBe(50);
  });

  it("names the variable and the problem when a value is invalid", () => {
    expect(() => loadConfig({ SLUICE_HEAP_GROWING_PERCENT: "lots" })).toThrow(ConfigurationError);
    expect(() => loadConfig({ SLUICE_HEAP_GROWING_PERCENT: "-5" })).toThrow(
      /Invalid environment: SLUICE_HEAP_GROWING_PERCENT: .*>=0/,
    );
    expect(() => loadConfig({ SLUICE_WORKER_LOCK_SECONDS: "1" })).toThrow(/SLUICE_WORKER_LOCK_SECONDS/);
  });
});
