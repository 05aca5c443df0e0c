/**
 * Flow-run parameters checked against the deployment's JSON schema (`parameter_openapi_schema`,
 * from the flow's zod schema or Prefect's pydantic one) with ajv. Compiled validators are cached
 * by schema.
 */
import { type FieldIssue, InvalidInputError, ParameterValidationError } from "@sluice/core";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS: its plugin is module.exports and module.exports.default.
const addFormats = addFormatsModule.default;

const CACHE_SIZE = 256;

export class ParameterValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false, useDefaults: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor() {
    addFormats(this.ajv);
  }

  /** Throws InvalidInputError when the schema cannot be compiled. */
  compile(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    const cached = this.cache.get(key);
    if (cached) return cached;
    // A top-level $id would clash with the same schema compiled before; $schema is informational.
    const { $id: _id, $schema: _schema, ...rest } = schema;
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(rest);
    } catch (error) {
      throw new InvalidInputError(`parameter_openapi_schema is not a usable JSON schema: ${(error as Error).message}`);
    }
    if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, validate);
    return validate;
  }

  /** Throws ParameterValidationError naming each offending parameter. */
  validate(flowName: string, schema: Record<string, unknown>, parameters: Record<string, unknown>): void {
    const validate = this.compile(schema);
    if (validate(parameters)) return;
    throw new ParameterValidationError(flowName, (validate.errors ?? []).map(fieldIssue));
  }
}

function fieldIssue(error: ErrorObject): FieldIssue {
  const loc: (string | number)[] = error.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  if (error.keyword === "required") {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return { loc: [...loc, missing], msg: "Field required", type: "missing" };
  }
  if (error.keyword === "additionalProperties") {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return { loc: [...loc, extra], msg: "Extra inputs are not permitted", type: "extra_forbidden" };
  }
  const message = error.message ?? "is invalid";
  return { loc, msg: message.charAt(0).toUpperCase() + message.slice(1), type: error.keyword };
}
