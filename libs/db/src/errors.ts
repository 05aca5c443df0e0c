/** Classifying Postgres errors: retry later, or never (the data itself is bad). */

/** The SQLSTATE of a Postgres error (e.g. "23505"), if it is one. */
export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

/**
 * True for errors that writing the same data again cannot fix: a data exception (class 22, e.g.
 * an invalid uuid or timestamp), an integrity violation (class 23, e.g. a missing required
 * field) or a program limit exceeded (class 54, e.g. a jsonb value over 256 MB: a smaller batch
 * gets under it, the same batch never does). Connection failures, deadlocks, serialization
 * failures, a missing table and the like are not: they succeed on a later attempt.
 */
export function isDataError(error: unknown): boolean {
  const code = pgErrorCode(error);
  return code !== undefined && (code.startsWith("22") || code.startsWith("23") || code.startsWith("54"));
}
