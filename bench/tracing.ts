/**
 * Tracing on: W2 and W3 again on a second Sluice cluster (the same server and two workers) whose
 * processes trace every run, 100% sampled, and export over OTLP/HTTP to the receiver in the bench
 * process (otlp-receiver.ts); and the rows saying what tracing costs against the cluster without
 * any OTEL_* variable.
 */
import { describeReceived, type OtlpReceiver, type Received } from "./otlp-receiver.js";
import { mergeRounds, type Result, round, tracingOn, VARIANT } from "./results.js";

/**
 * The OTEL_* variables of the traced cluster (OTEL_SERVICE_NAME is left to Sluice: sluice-api,
 * sluice-worker). The batch queue is large enough that no span is dropped under W2's load.
 */
export function tracingEnv(endpoint: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_TRACES_SAMPLER: "always_on",
    OTEL_BSP_MAX_QUEUE_SIZE: "65536",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "2048",
  };
}

/** `env` without any OTEL_* variable, so the cluster without tracing is really without it. */
export function withoutOtel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith("OTEL_")));
}

export const TRACING_SETTINGS =
  "the same server and 2 workers on a cluster of their own, with " +
  Object.entries(tracingEnv("http://127.0.0.1:PORT"))
    .map(([name, value]) => `${name}=${value}`)
    .join(" ") +
  " (an OTLP/HTTP receiver in the bench process that counts what it gets and answers 200 without decoding it)";

/**
 * Counts what the receiver gets from now on: the function returned describes it for a row's notes
 * (spans still in the batch queues when it is called are exported later). Off: "".
 */
export function exportsSince(receiver: OtlpReceiver | undefined): () => string {
  if (!receiver) return () => "";
  const start = receiver.received();
  return () => {
    const now = receiver.received();
    const during: Received = { requests: now.requests - start.requests, bytes: now.bytes - start.bytes };
    return `; tracing on, 100% sampled: spans exported meanwhile ${describeReceived(during)} of OTLP/HTTP protobuf`;
  };
}

/**
 * The overhead of tracing, from the rows of both clusters: W2's throughput lost and W3's p50 to
 * Running gained. Nothing when either side is missing (the check then reports the missing row).
 */
export function tracingOverheadRows(results: readonly Result[]): Result[] {
  const value = (workload: Result["workload"], variant: string, metric: Result["metric"]) =>
    results.find(
      (r) => r.system === "sluice" && r.workload === workload && r.variant === variant && r.metric === metric,
    )?.value;
  const rows: Result[] = [];
  const offRate = value("W2", VARIANT.throughput, "tasks_per_s");
  const onRate = value("W2", tracingOn(VARIANT.throughput), "tasks_per_s");
  if (offRate !== undefined && onRate !== undefined) {
    rows.push({
      workload: "W2",
      system: "sluice",
      variant: tracingOn(VARIANT.throughput),
      metric: "overhead_pct",
      value: round((1 - onRate / offRate) * 100),
      notes: `throughput lost to tracing, 1 − on/off (${Math.round(onRate)}/s on vs ${Math.round(offRate)}/s off)`,
    });
  }
  const offP50 = value("W3", VARIANT.toRunning, "p50_ms");
  const onP50 = value("W3", tracingOn(VARIANT.toRunning), "p50_ms");
  if (offP50 !== undefined && onP50 !== undefined) {
    rows.push({
      workload: "W3",
      system: "sluice",
      variant: tracingOn(VARIANT.toRunning),
      metric: "overhead_pct",
      value: round((onP50 / offP50 - 1) * 100),
      notes: `p50 to Running added by tracing, on/off − 1 (${onP50} ms on vs ${offP50} ms off)`,
    });
  }
  return rows;
}

/**
 * The rounds' results merged (`mergeRounds`) with tracing's overhead in each round: a round runs
 * its traced and untraced clusters one after the other, so the overhead is the median of the
 * rounds' own. The ratio of the two medians mixes rounds minutes apart, and this machine's speed
 * drifts between them by more than tracing costs.
 */
export function mergeRoundsWithTracingOverhead(rounds: readonly (readonly Result[])[]): Result[] {
  return mergeRounds(rounds.map((results) => [...results, ...tracingOverheadRows(results)]));
}
