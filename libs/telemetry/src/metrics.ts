/**
 * Prometheus `/metrics` of a service: `createServiceMetrics()` loads prom-client (only then) and
 * gives a registry to add gauges to; `startMetricsServer()` serves it on a port of its own (the
 * workers' `--metrics-port`; the API serves it on its own port).
 */
import { createServer } from "node:http";

/** One series of a gauge read at scrape time. */
export interface GaugeSample {
  labels?: Record<string, string | number>;
  value: number;
}

export interface ServiceMetricsOptions {
  /** Process metrics (CPU, memory, GC, event-loop lag) under `sluice_` (default true). */
  defaultMetrics?: boolean;
  /** A gauge whose collect callback threw (it is left out of that scrape). */
  onCollectError?: (metric: string, error: unknown) => void;
}

export interface ServiceMetrics {
  readonly contentType: string;
  /** Registers a gauge whose samples are read by `collect` at each scrape. */
  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => Promise<GaugeSample[]> | GaugeSample[],
  ): void;
  /** Wraps a read so the gauges of one scrape share its result (one Redis round trip for several gauges). */
  perScrape<T>(read: () => Promise<T>): () => Promise<T>;
  /**
   * Counts this process's runs (by final state, with durations) and queue waits: the engine reports
   * them here from now on (`sluice_flow_runs_finished_total`, `sluice_task_run_duration_seconds`, …).
   */
  countRuns(): void;
  /** The metrics in Prometheus's text format. */
  render(): Promise<string>;
  close(): void;
}

export async function createServiceMetrics(options: ServiceMetricsOptions = {}): Promise<ServiceMetrics> {
  const { PromServiceMetrics } = await import("./prom-metrics.js");
  return new PromServiceMetrics(options);
}

/** Serves `GET /metrics` on host:port; resolves once listening (port 0: any free port, see `port`). */
export async function startMetricsServer(
  metrics: ServiceMetrics,
  options: { port: number; host?: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?", 1)[0];
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("Not found: metrics are at /metrics\n");
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
