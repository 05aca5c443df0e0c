/**
 * Prometheus metrics of one service (prom-client), loaded only by a process that serves `/metrics`.
 * Names follow Prometheus's conventions under the `sluice_` prefix. Counters and histograms the
 * engine feeds on the hot path cost a Map lookup and an increment; everything that needs I/O
 * (queue depth, workers online, recorder lag) is a gauge read at scrape time, never on a timer.
 */
import client from "prom-client";
import type { GaugeSample, ServiceMetrics, ServiceMetricsOptions } from "./metrics.js";
import { type MetricsRunKind, setRunMetricsSink } from "./run-metrics.js";

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const WAIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];

interface Bound {
  finished: client.Counter.Internal;
  duration: client.Histogram.Internal<string>;
}

export class PromServiceMetrics implements ServiceMetrics {
  readonly registry = new client.Registry();
  private generation = 0;
  private countingRuns = false;

  constructor(private readonly options: ServiceMetricsOptions = {}) {
    if (options.defaultMetrics !== false) {
      // Process CPU, memory, GC and event-loop lag (sluice_nodejs_eventloop_lag_seconds, …).
      client.collectDefaultMetrics({ register: this.registry, prefix: "sluice_" });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  gauge(
    name: string,
    help: string,
    labelNames: readonly string[],
    collect: () => Promise<GaugeSample[]> | GaugeSample[],
  ): void {
    const onError = this.options.onCollectError;
    new client.Gauge({
      name,
      help,
      labelNames: [...labelNames],
      registers: [this.registry],
      async collect() {
        this.reset();
        let samples: GaugeSample[];
        try {
          samples = await collect();
        } catch (error) {
          onError?.(name, error);
          return;
        }
        for (const sample of samples) {
          if (sample.labels) this.set(sample.labels, sample.value);
          else this.set(sample.value);
        }
      },
    });
  }

  perScrape<T>(read: () => Promise<T>): () => Promise<T> {
    let generation = -1;
    let value: Promise<T> | undefined;
    return () => {
      if (generation !== this.generation || !value) {
        generation = this.generation;
        value = read();
        value.catch(() => {});
      }
      return value;
    };
  }

  countRuns(): void {
    if (this.countingRuns) return;
    this.countingRuns = true;
    const registers = [this.registry];
    const flowFinished = new client.Counter({
      name: "sluice_flow_runs_finished_total",
      help: "Flow runs that reached a final state in this process, by flow and state name",
      labelNames: ["flow", "state"],
      registers,
    });
    const taskFinished = new client.Counter({
      name: "sluice_task_runs_finished_total",
      help: "Task runs that reached a final state in this process, by task and state name",
      labelNames: ["task", "state"],
      registers,
    });
    const flowDuration = new client.Histogram({
      name: "sluice_flow_run_duration_seconds",
      help: "Flow run duration from its first Running state to its final state",
      labelNames: ["flow", "state"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const taskDuration = new client.Histogram({
      name: "sluice_task_run_duration_seconds",
      help: "Task run duration from its first Running state to its final state",
      labelNames: ["task", "state"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const queueWait = new client.Histogram({
      name: "sluice_queue_wait_seconds",
      help: "Time a job waited in its queue, from ready to taken by a worker of this process",
      labelNames: ["pool", "queue"],
      buckets: WAIT_BUCKETS,
      registers,
    });
    const bound = new Map<string, Bound>();
    const waits = new Map<string, client.Histogram.Internal<string>>();
    setRunMetricsSink({
      runFinished: (kind: MetricsRunKind, name: string, state: string, seconds: number | undefined) => {
        const key = `${kind}\u0000${name}\u0000${state}`;
        let series = bound.get(key);
        if (!series) {
          series =
            kind === "flow_run"
              ? { finished: flowFinished.labels(name, state), duration: flowDuration.labels(name, state) }
              : { finished: taskFinished.labels(name, state), duration: taskDuration.labels(name, state) };
          bound.set(key, series);
        }
        series.finished.inc();
        if (seconds !== undefined) series.duration.observe(seconds);
      },
      jobWaited: (queue, pool, seconds) => {
        const key = `${queue}\u0000${pool}`;
        let series = waits.get(key);
        if (!series) {
          series = queueWait.labels(pool, queue);
          waits.set(key, series);
        }
        series.observe(seconds);
      },
    });
  }

  async render(): Promise<string> {
    this.generation++;
    return this.registry.metrics();
  }

  close(): void {
    if (this.countingRuns) setRunMetricsSink(undefined);
    this.registry.clear();
  }
}
