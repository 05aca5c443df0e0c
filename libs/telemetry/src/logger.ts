/**
 * Structured logs: one pino logger per service, JSON to stderr, level from the service's config.
 * With tracing on, every line written inside a span carries its `trace_id` and `span_id`.
 */
import pino, { type Logger } from "pino";
import { traceLogFields } from "./tracing.js";

export type { Logger };

export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({ name: options.service, level: options.level ?? "info", mixin: traceLogFields }, pino.destination(2));
}
