/** Zod building blocks shared by the routes: ids, timestamps, pagination, optional bodies. */
import { STATE_NAMES, STATE_TYPES } from "@sluice/core";
import { z } from "zod";

/** Any Postgres uuid (not only RFC 9562 versions), reported like FastAPI's uuid_parsing. */
export const uuid = z.guid({ error: "Input should be a valid UUID" });

export const idParams = z.object({ id: uuid });

/** An ISO 8601 timestamp; one without a zone is read as UTC (like Prefect). */
export const dateTime = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), { error: "Input should be a valid datetime" })
  .transform((value) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`));

export const stateType = z.enum(STATE_TYPES);
export const stateName = z.enum(STATE_NAMES as [string, ...string[]]);

export const tags = z.array(z.string());
export const jsonObject = z.record(z.string(), z.unknown());

/** Prefect's default and maximum page size. */
export const MAX_LIMIT = 200;

export const pagination = {
  limit: z.number().int().min(0).max(MAX_LIMIT).nullish(),
  offset: z.number().int().min(0).nullish(),
};

/** A body that may be absent (or empty): validated as `{}`. */
export function optionalBody<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => value ?? {}, schema);
}

/** A filter criterion object; null means "no criterion", and criteria Sluice does not know must be null. */
export function criteria<T extends z.ZodRawShape>(shape: T) {
  return z
    .object(shape)
    .catchall(z.null({ error: "This filter criterion is not supported by Sluice" }))
    .nullish();
}

/** `{operator: "and_"|"or_"}` of combined criteria. */
export const operator = z.enum(["and_", "or_"]).nullish();

export const anyOf = <T extends z.ZodType>(item: T) => criteria({ any_: z.array(item).nullish() });
