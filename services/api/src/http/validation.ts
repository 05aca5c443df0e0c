/**
 * Request validation with zod, reported as FastAPI does: 422 with
 * `{"detail":[{"loc":["body","field"],"msg":"…","type":"…","input":…}]}`.
 */
import type { FieldIssue } from "@sluice/core";
import type { FastifySchemaCompiler } from "fastify";
import { ZodError, type ZodType, type z } from "zod";

/** Where a validated value came from, FastAPI's first `loc` element. */
export type Location = "body" | "path" | "query" | "header";

const LOCATIONS: Record<string, Location> = {
  body: "body",
  params: "path",
  querystring: "query",
  headers: "header",
};

/** Fastify's validator compiler for zod schemas: the parsed (and defaulted) value, or the ZodError. */
export const zodValidatorCompiler: FastifySchemaCompiler<ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data, { reportInput: true });
    return result.success ? { value: result.data } : { error: result.error };
  };

export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
}

/** FastAPI-style details of a zod error raised while validating `context` (Fastify's name for it). */
export function validationDetails(error: ZodError, context: string | undefined): ValidationDetail[] {
  const location = LOCATIONS[context ?? "body"] ?? "body";
  return error.issues.map((issue) => issueDetail(location, issue));
}

function issueDetail(location: Location, issue: z.core.$ZodIssue): ValidationDetail {
  const loc: (string | number)[] = [location, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
  const input = (issue as { input?: unknown }).input;
  // A field left out: zod reports a wrong type, or a value outside an enum, of `undefined`.
  if ((issue.code === "invalid_type" || issue.code === "invalid_value") && input === undefined) {
    return { loc, msg: "Field required", type: "missing" };
  }
  if (issue.code === "unrecognized_keys") {
    // FastAPI reports each extra field at its own location.
    return { loc: [...loc, ...issue.keys.slice(0, 1)], msg: issue.message, type: "extra_forbidden" };
  }
  const detail: ValidationDetail = { loc, msg: issue.message, type: issueType(issue) };
  if (input !== undefined && !isLarge(input)) detail.input = input;
  return detail;
}

function issueType(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `${issue.expected}_type`;
    case "invalid_format":
      return `${issue.format === "guid" ? "uuid" : issue.format}_parsing`;
    case "invalid_value":
      return "enum";
    case "too_small":
      return issue.origin === "string" ? "string_too_short" : "greater_than_equal";
    case "too_big":
      return issue.origin === "string" ? "string_too_long" : "less_than_equal";
    default:
      return issue.code;
  }
}

/** Echoing a big input back in an error is of no use to anyone. */
function isLarge(value: unknown): boolean {
  if (typeof value === "string") return value.length > 200;
  if (typeof value === "object" && value !== null) return JSON.stringify(value).length > 500;
  return false;
}

/** Details for issues found outside zod (e.g. flow parameters checked against a JSON schema). */
export function fieldIssueDetails(location: Location, prefix: (string | number)[], issues: FieldIssue[]) {
  return issues.map((issue) => ({ loc: [location, ...prefix, ...issue.loc], msg: issue.msg, type: issue.type }));
}

export function isZodError(error: unknown): error is ZodError {
  return error instanceof ZodError;
}
