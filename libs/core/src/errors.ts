/** Typed errors with stable codes; the API maps them to HTTP statuses in one place. */

export type ErrorCode =
  | "PARAMETER_VALIDATION"
  | "NOT_FOUND"
  | "CONFLICT"
  | "INVALID_INPUT"
  | "TASK_TIMEOUT"
  | "TASK_FAILED"
  | "FLOW_FAILED"
  | "CANCELLED"
  | "NO_RUN_CONTEXT"
  | "CONFIGURATION"
  | "UNAVAILABLE";

export class SluiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export interface FieldIssue {
  /** Path of the offending field, e.g. ["parameters", "apiUrl"]. */
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** Flow parameters that do not match the flow's schema: the run never starts. */
export class ParameterValidationError extends SluiceError {
  constructor(
    readonly flowName: string,
    readonly issues: FieldIssue[],
  ) {
    super(
      "PARAMETER_VALIDATION",
      `Invalid parameters for flow '${flowName}': ${issues.map((i) => `${i.loc.join(".")}: ${i.msg}`).join("; ")}`,
    );
  }
}

export class NotFoundError extends SluiceError {
  constructor(message: string) {
    super("NOT_FOUND", message);
  }
}

/** The request clashes with what exists (e.g. creating a work pool whose name is taken). */
export class ConflictError extends SluiceError {
  constructor(message: string) {
    super("CONFLICT", message);
  }
}

export class InvalidInputError extends SluiceError {
  constructor(message: string) {
    super("INVALID_INPUT", message);
  }
}

export class TaskTimeoutError extends SluiceError {
  constructor(
    readonly taskName: string,
    readonly timeoutSeconds: number,
  ) {
    super("TASK_TIMEOUT", `Task '${taskName}' timed out after ${timeoutSeconds}s`);
  }
}

export class CancelledError extends SluiceError {
  constructor(message = "Run was cancelled") {
    super("CANCELLED", message);
  }
}

export class NoRunContextError extends SluiceError {
  constructor(what: string) {
    super("NO_RUN_CONTEXT", `${what} must be called inside a flow or task run`);
  }
}

export class ConfigurationError extends SluiceError {
  constructor(message: string) {
    super("CONFIGURATION", message);
  }
}

export class UnavailableError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("UNAVAILABLE", message, options);
  }
}

/** Plain, JSON-safe description of any thrown value, for FAILED state data and logs. */
export function describeError(error: unknown): { type: string; message: string; code?: string; stack?: string } {
  if (error instanceof SluiceError) {
    return { type: error.name, message: error.message, code: error.code, stack: error.stack };
  }
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack };
  return { type: typeof error, message: String(error) };
}
