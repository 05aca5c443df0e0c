/**
 * The libraries traced besides Sluice's own spans: incoming and outgoing HTTP (`http`), `fetch()`
 * (`undici`), Postgres (`pg`) and, on request only, Redis (`ioredis`: BullMQ sends several Redis
 * commands per job, so its spans are many and cost throughput). The standard
 * OTEL_NODE_ENABLED_INSTRUMENTATIONS / OTEL_NODE_DISABLED_INSTRUMENTATIONS lists change the set.
 *
 * Only requests made inside a span are traced (a task's queries and calls, the API's queries), not
 * the engine's background traffic (heartbeats, the recorder's batches), nor scrapes and health checks.
 */
import type { IncomingMessage } from "node:http";
import { createRequire, syncBuiltinESMExports } from "node:module";
import type { NodeSDKConfiguration } from "@opentelemetry/sdk-node";

type Instrumentation = NonNullable<NodeSDKConfiguration["instrumentations"]>[number];

export const INSTRUMENTATION_NAMES = ["http", "undici", "pg", "ioredis"] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];
export const DEFAULT_INSTRUMENTATIONS: readonly InstrumentationName[] = ["http", "undici", "pg"];

/** Incoming requests that make no span: scrapes, health checks, worker heartbeats, the docs. */
const UNTRACED_PATHS = [/^\/metrics$/, /^\/api\/health$/, /^\/api\/work_pools\/[^/]+\/workers\/heartbeat$/, /^\/docs/];

function listFromEnv(value: string | undefined): string[] | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return value
    .split(",")
    .map((name) => name.trim().replace(/^@opentelemetry\/instrumentation-/, ""))
    .filter(Boolean);
}

/** Which instrumentations to enable, from the defaults and the OTEL_NODE_* lists. */
export function enabledInstrumentations(env: NodeJS.ProcessEnv): InstrumentationName[] {
  const enabled = listFromEnv(env.OTEL_NODE_ENABLED_INSTRUMENTATIONS) ?? [...DEFAULT_INSTRUMENTATIONS];
  const disabled = new Set(listFromEnv(env.OTEL_NODE_DISABLED_INSTRUMENTATIONS) ?? []);
  return INSTRUMENTATION_NAMES.filter((name) => enabled.includes(name) && !disabled.has(name));
}

export interface LoadedInstrumentations {
  instrumentations: Instrumentation[];
  /** Applies the patches to modules this process loaded before the SDK started (call after `sdk.start()`). */
  patchLoadedModules(): void;
  /** `fetch()` spans (undici's diagnostics channels): subscribe once the tracer provider is registered. */
  startFetchSpans?: () => () => void;
}

export async function loadInstrumentations(names: readonly InstrumentationName[]): Promise<LoadedInstrumentations> {
  const instrumentations: Instrumentation[] = [];
  const modules: string[] = [];
  if (names.includes("http")) {
    const { HttpInstrumentation } = await import("@opentelemetry/instrumentation-http");
    instrumentations.push(
      new HttpInstrumentation({
        requireParentforOutgoingSpans: true,
        ignoreIncomingRequestHook: (request: IncomingMessage) => {
          const path = (request.url ?? "").split("?", 1)[0] ?? "";
          return UNTRACED_PATHS.some((pattern) => pattern.test(path));
        },
      }),
    );
    modules.push("http", "https");
  }
  if (names.includes("pg")) {
    const { PgInstrumentation } = await import("@opentelemetry/instrumentation-pg");
    instrumentations.push(new PgInstrumentation({ requireParentSpan: true }));
    modules.push("pg", "pg-pool");
  }
  if (names.includes("ioredis")) {
    const { IORedisInstrumentation } = await import("@opentelemetry/instrumentation-ioredis");
    instrumentations.push(new IORedisInstrumentation({ requireParentSpan: true }));
    modules.push("ioredis");
  }
  const startFetchSpans = names.includes("undici")
    ? (await import("./fetch-instrumentation.js")).instrumentFetch
    : undefined;
  return {
    instrumentations,
    startFetchSpans,
    patchLoadedModules: () => {
      // The instrumentations patch a module when it is required. Sluice's services import pg,
      // ioredis and http before they know their telemetry settings, so require them again: the
      // patches land on the shared prototypes (Client.prototype.query, …) the loaded copies use.
      const require = createRequire(import.meta.url);
      for (const name of modules) {
        try {
          require(name);
        } catch {
          // Not installed here: nothing to trace.
        }
      }
      syncBuiltinESMExports();
    },
  };
}
