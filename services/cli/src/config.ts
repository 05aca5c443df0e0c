/** The CLI's environment, read and validated in one place. */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { SluiceClient } from "@sluice/client";
import { ConfigurationError, DEFAULT_INLINE_PAYLOAD_BYTES } from "@sluice/core";
import { tracingConfigured } from "@sluice/telemetry";
import { z } from "zod";

/**
 * A full GC once the heap is half again what was live after the last one: in the benchmarks this
 * kept the workers at 145-185 MB RSS through a 20,000-item .map() and cost the ETL runs no
 * measurable time (V8's own choice let old space grow to 3-4× the live heap first). Not with
 * tracing on: every span lives until its batch is exported, long enough to reach the old
 * generation, and full GCs then ran back to back (W2 25-37% slower traced than untraced, against
 * about 0% with V8's own growth), so a traced process keeps V8's choice and more memory.
 */
const DEFAULT_HEAP_GROWING_PERCENT = 50;
const DEFAULT_HEAP_GROWING_PERCENT_TRACED = 0;

const EnvSchema = z.object({
  SLUICE_DATABASE_URL: z.string().url().optional(),
  SLUICE_REDIS_URL: z.string().url().optional(),
  /** Key prefix for every Redis key (queues, streams, leases), to share one Redis between installations. */
  SLUICE_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/)
    .default("sluice"),
  SLUICE_HOME: z.string().optional(),
  SLUICE_EMBEDDED: z.enum(["0", "1", "true", "false", ""]).optional(),
  SLUICE_API_URL: z.string().url().default("http://127.0.0.1:4200/api"),
  SLUICE_API_KEY: z.string().min(1).optional(),
  SLUICE_HOST: z.string().default("0.0.0.0"),
  SLUICE_PORT: z.coerce.number().int().min(0).max(65535).default(4200),
  /** Workers: how long a cancelled flow body may take to stop before it is abandoned. */
  SLUICE_CANCEL_GRACE_SECONDS: z.coerce.number().min(0).default(10),
  /**
   * Workers: the lock a worker holds on each run it runs, renewed at half this. A worker that died
   * is found within about 1.5× this; a flow whose code blocks the event loop longer than half of it
   * loses its run (so not too short: BullMQ's default is 30 s).
   */
  SLUICE_WORKER_LOCK_SECONDS: z.coerce.number().min(2).default(30),
  /** Workers: task-run arguments and results with more JSON than this go through the result store (Postgres). */
  SLUICE_INLINE_PAYLOAD_BYTES: z.coerce.number().int().min(0).default(DEFAULT_INLINE_PAYLOAD_BYTES),
  /** Server: a run's trace in a tracing UI, `{trace_id}` replaced (e.g. http://localhost:16686/trace/{trace_id}). */
  SLUICE_TRACE_UI_URL: z.string().url().optional(),
  /**
   * Server and workers: how far the heap may grow past its live size before a full GC (0: V8's own
   * choice, which let a worker with 40 MB live reach 150+ MB of heap during a 20,000-item .map()).
   */
  SLUICE_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000).optional(),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("warn"),
});

export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sluice";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface CliConfig {
  databaseUrl: string;
  redisUrl: string;
  /** Whether the URLs were given explicitly (then unreachable is an error, not a fallback). */
  databaseUrlConfigured: boolean;
  redisUrlConfigured: boolean;
  redisPrefix: string;
  logLevel: string;
  /** Where the CLI, workers and deploy scripts reach the API. */
  apiUrl: string;
  apiKey: string | undefined;
  /** Where `server start` listens. */
  host: string;
  port: number;
  /** SLUICE_HOME (default ~/.sluice): the embedded store lives here. */
  home: string;
  /** SLUICE_EMBEDDED=1: embedded mode whatever is reachable. */
  embedded: boolean;
  /** Workers: seconds a cancelled flow body may take to stop before it is abandoned (SLUICE_CANCEL_GRACE_SECONDS). */
  cancelGraceSeconds: number;
  /** Workers: run lock duration (SLUICE_WORKER_LOCK_SECONDS); dead workers are found within ~1.5× it. */
  workerLockSeconds: number;
  /** Workers: largest task-run argument list or result (JSON length) carried in Redis; larger ones go to Postgres (SLUICE_INLINE_PAYLOAD_BYTES). */
  inlinePayloadBytes: number;
  /** Server: the tracing UI link the UI shows for a run's trace (SLUICE_TRACE_UI_URL). */
  traceUiUrl: string | undefined;
  /** Server and workers: heap growth past the live size before a full GC, in % (SLUICE_HEAP_GROWING_PERCENT; 0: V8's default; default 50, 0 with tracing on). */
  heapGrowingPercent: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new ConfigurationError(`Invalid environment: ${problems}`);
  }
  const e = parsed.data;
  return {
    databaseUrl: e.SLUICE_DATABASE_URL ?? DEFAULT_DATABASE_URL,
    redisUrl: e.SLUICE_REDIS_URL ?? DEFAULT_REDIS_URL,
    databaseUrlConfigured: e.SLUICE_DATABASE_URL !== undefined,
    redisUrlConfigured: e.SLUICE_REDIS_URL !== undefined,
    redisPrefix: e.SLUICE_REDIS_PREFIX,
    logLevel: e.LOG_LEVEL,
    apiUrl: e.SLUICE_API_URL,
    apiKey: e.SLUICE_API_KEY,
    host: e.SLUICE_HOST,
    port: e.SLUICE_PORT,
    home: resolve(e.SLUICE_HOME || join(homedir(), ".sluice")),
    embedded: e.SLUICE_EMBEDDED === "1" || e.SLUICE_EMBEDDED === "true",
    cancelGraceSeconds: e.SLUICE_CANCEL_GRACE_SECONDS,
    workerLockSeconds: e.SLUICE_WORKER_LOCK_SECONDS,
    inlinePayloadBytes: e.SLUICE_INLINE_PAYLOAD_BYTES,
    traceUiUrl: e.SLUICE_TRACE_UI_URL,
    heapGrowingPercent:
      e.SLUICE_HEAP_GROWING_PERCENT ??
      (tracingConfigured(env) ? DEFAULT_HEAP_GROWING_PERCENT_TRACED : DEFAULT_HEAP_GROWING_PERCENT),
  };
}

/** A URL safe to print: the password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/** The API client the CLI's server commands use, from SLUICE_API_URL and SLUICE_API_KEY. */
export function apiClient(config: CliConfig): SluiceClient {
  return new SluiceClient({ apiUrl: config.apiUrl, apiKey: config.apiKey });
}
