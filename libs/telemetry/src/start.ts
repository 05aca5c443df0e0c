/**
 * OpenTelemetry for one service process, configured by the standard OTEL_* variables only
 * (the Node SDK reads them: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL with
 * `http/protobuf`, `http/json` or `grpc`, OTEL_TRACES_SAMPLER(_ARG), OTEL_SERVICE_NAME,
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, …).
 *
 * Tracing is on when an exporter is configured (an OTLP endpoint, or OTEL_TRACES_EXPORTER other
 * than `none`) and OTEL_SDK_DISABLED is not true. Otherwise nothing is loaded, nothing is patched,
 * and every Sluice span helper is a boolean test (the API's no-op tracer is never even asked).
 */

import { enabledInstrumentations, loadInstrumentations } from "./instrumentations.js";
import { setTracingEnabled } from "./tracing.js";

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) sets it: sluice-api, sluice-worker, sluice-cli. */
  serviceName: string;
  /** More resource attributes (a worker's pool and name). */
  attributes?: Record<string, string>;
  /** Where the OTEL_* variables are read to decide whether tracing is on (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** Whether spans are recorded and exported. */
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops; call it on the way out (a no-op when disabled). */
  shutdown(): Promise<void>;
}

const DISABLED: Telemetry = { enabled: false, shutdown: async () => {} };

let running: Telemetry | undefined;

/** Whether the OTEL_* variables ask for traces. */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (/^\s*true\s*$/i.test(env.OTEL_SDK_DISABLED ?? "")) return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "")
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  if (exporters.includes("none") && exporters.length === 1) return false;
  if (exporters.length > 0) return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts OpenTelemetry for this process (once: a second call returns the first one's handle).
 * Resolves to a disabled handle, having loaded nothing, when no exporter is configured.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  if (running) return running;
  if (!tracingConfigured(env)) return DISABLED;
  const [{ NodeSDK }, { defaultResource, resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/resources"),
  ]);
  const loaded = await loadInstrumentations(enabledInstrumentations(env));
  const sdk = new NodeSDK({
    // Ours first: the environment's resource attributes (OTEL_SERVICE_NAME, …) are merged over them.
    resource: defaultResource().merge(
      resourceFromAttributes({ "service.name": options.serviceName, ...options.attributes }),
    ),
    instrumentations: loaded.instrumentations,
    // Metrics are Prometheus's (/metrics) and logs pino's, unless the environment asks for OTLP ones.
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  loaded.patchLoadedModules();
  const stopFetchSpans = loaded.startFetchSpans?.();
  setTracingEnabled(true);
  let stopped: Promise<void> | undefined;
  const telemetry: Telemetry = {
    enabled: true,
    shutdown: () => {
      stopped ??= (async () => {
        setTracingEnabled(false);
        stopFetchSpans?.();
        running = undefined;
        // Spans that cannot be exported now (collector down, too many batches at once) are
        // dropped: stopping the service must not fail because of them.
        await sdk.shutdown().catch(() => {});
      })();
      return stopped;
    },
  };
  running = telemetry;
  return telemetry;
}
