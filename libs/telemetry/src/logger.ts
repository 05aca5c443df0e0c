/** Structured logs: one pino logger per service, JSON to stderr, level from the service's config. */
import pino, { type Logger } from "pino";

export type { Logger };

export function createLogger(options: { service: string; level?: string }): Logger {
  return pino({ name: options.service, level: options.level ?? "info" }, pino.destination(2));
}
