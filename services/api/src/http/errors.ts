/**
 * The one place errors become HTTP responses, FastAPI-style: `{"detail": …}` with 422 for invalid
 * input (a list of `{loc, msg, type}`), 404 for unknown ids, 401, 409, 413, and typed SluiceErrors
 * mapped by their stable code.
 */
import { assertNever, type ErrorCode, ParameterValidationError, SluiceError } from "@sluice/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { fieldIssueDetails, isZodError, validationDetails } from "./validation.js";

/** An HTTP answer decided by a route (the detail is sent as is). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: unknown,
  ) {
    super(typeof detail === "string" ? detail : `HTTP ${statusCode}`);
    this.name = "HttpError";
  }
}

export function notFound(what: string): HttpError {
  return new HttpError(404, `${what} not found`);
}

/** The HTTP status of each SluiceError code. */
export function statusOfCode(code: ErrorCode): number {
  switch (code) {
    case "NOT_FOUND":
      return 404;
    case "CONFLICT":
      return 409;
    case "PARAMETER_VALIDATION":
    case "INVALID_INPUT":
      return 422;
    case "UNAVAILABLE":
      return 503;
    case "CONFIGURATION":
    case "TASK_TIMEOUT":
    case "TASK_FAILED":
    case "FLOW_FAILED":
    case "CANCELLED":
    case "NO_RUN_CONTEXT":
      return 500;
    default:
      return assertNever(code);
  }
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ detail: "Not Found" });
  });

  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const { status, detail } = describe(error);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.debug({ status, detail }, "request rejected");
    void reply.code(status).send({ detail });
  });
}

function describe(error: FastifyError | Error): { status: number; detail: unknown } {
  if (error instanceof HttpError) return { status: error.statusCode, detail: error.detail };
  if (isZodError(error)) {
    return {
      status: 422,
      detail: validationDetails(error, (error as { validationContext?: string }).validationContext),
    };
  }
  if (error instanceof ParameterValidationError) {
    return { status: 422, detail: fieldIssueDetails("body", ["parameters"], error.issues) };
  }
  if (error instanceof SluiceError) return { status: statusOfCode(error.code), detail: error.message };
  const code = (error as FastifyError).code;
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, detail: "Request body is too large" };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return {
        status: 422,
        detail: [{ loc: ["body"], msg: "JSON decode error: the body is not valid JSON", type: "json_invalid" }],
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { status: 415, detail: "Unsupported Media Type: send JSON (Content-Type: application/json)" };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { status: 400, detail: "Request body size does not match Content-Length" };
    default:
      break;
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, detail: error.message };
  return { status: 500, detail: "Internal Server Error" };
}
