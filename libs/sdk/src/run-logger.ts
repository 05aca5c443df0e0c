/** Run loggers: every line becomes a log event of the run (recorded in Postgres) and is shown to the user. */
import type { LogEvent, LogLevel } from "@sluice/core";
import { MonotonicClock, newRowId } from "@sluice/core";
import type { Engine } from "./engine.js";

export interface RunLogger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warning(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
  critical(message: string, ...args: unknown[]): void;
  log(level: LogLevel, message: string, ...args: unknown[]): void;
}

export interface RunLoggerTarget {
  engine: Engine;
  flowRunId: string | null;
  taskRunId: string | null;
  /** "Flow run 'x'" or "Task run 'y'", shown before each console line. */
  label: string;
  name: string;
}

export function createRunLogger(target: RunLoggerTarget): RunLogger {
  const log = (level: LogLevel, message: string, ...args: unknown[]) => {
    const event: LogEvent = {
      kind: "log",
      id: newRowId(),
      timestamp: nextLogTimestamp(),
      flowRunId: target.flowRunId,
      taskRunId: target.taskRunId,
      name: target.name,
      level,
      message: formatMessage(message, args),
    };
    target.engine.events.emit(event);
    target.engine.onLog?.(event, target.label);
  };
  return {
    log,
    debug: (m, ...a) => log("DEBUG", m, ...a),
    info: (m, ...a) => log("INFO", m, ...a),
    warning: (m, ...a) => log("WARNING", m, ...a),
    warn: (m, ...a) => log("WARNING", m, ...a),
    error: (m, ...a) => log("ERROR", m, ...a),
    critical: (m, ...a) => log("CRITICAL", m, ...a),
  };
}

/**
 * Log timestamps strictly increase within a process, in microseconds (Postgres keeps them), so
 * lines logged in the same millisecond are read back in the order they were written; they come
 * from the same clock as state timestamps.
 */
const logClock = new MonotonicClock();

export function nextLogTimestamp(): string {
  return logClock.nextIso();
}

/** console-style formatting: extra arguments are appended, objects as JSON. */
export function formatMessage(message: unknown, args: unknown[]): string {
  if (args.length === 0 && typeof message === "string") return message;
  const parts = [message, ...args].map((part) => {
    if (typeof part === "string") return part;
    if (part instanceof Error) return part.stack ?? part.message;
    try {
      return JSON.stringify(part) ?? String(part);
    } catch {
      return String(part);
    }
  });
  return parts.join(" ");
}
