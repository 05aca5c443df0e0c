/**
 * The "Run" form of a deployment, generated from its flow's parameter JSON schema (the zod
 * schema's JSON Schema): one field per property with its default, values parsed back from the
 * inputs, and the API's 422 `detail` turned into one message per field.
 */

export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export interface ParameterField {
  name: string;
  kind: FieldKind;
  label: string;
  description: string | null;
  required: boolean;
  options: string[];
  /** The input's initial text (checkbox: "true"/"false"). */
  initial: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  description?: string;
  title?: string;
  anyOf?: JsonSchema[];
}

function kindOf(schema: JsonSchema): FieldKind {
  if (schema.enum?.every((value) => typeof value === "string")) return "enum";
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : [schema.type];
  const type = types[0] ?? schema.anyOf?.find((option) => option.type !== "null")?.type;
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") return type;
  return "json";
}

/** Values the deployment sets win over the schema's defaults. */
export function parameterFields(
  schema: Record<string, unknown> | null,
  deploymentParameters: Record<string, unknown> = {},
): ParameterField[] {
  const root = (schema ?? {}) as JsonSchema;
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).map(([name, property]) => {
    const kind = kindOf(property);
    const value = name in deploymentParameters ? deploymentParameters[name] : property.default;
    let initial = "";
    if (value !== undefined && value !== null) {
      initial = kind === "json" ? JSON.stringify(value, null, 2) : String(value);
    } else if (kind === "boolean") initial = "false";
    return {
      name,
      kind,
      label: property.title ?? name,
      description: property.description ?? null,
      required: required.has(name) && property.default === undefined,
      options: kind === "enum" ? (property.enum as string[]) : [],
      initial,
    };
  });
}

export type ParsedParameters =
  | { ok: true; parameters: Record<string, unknown> }
  | { ok: false; errors: Record<string, string> };

/** Empty optional fields are left out (the flow's default applies). */
export function parseParameterValues(fields: ParameterField[], values: Record<string, string>): ParsedParameters {
  const parameters: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = values[field.name] ?? field.initial;
    if (field.kind === "boolean") {
      parameters[field.name] = raw === "true";
      continue;
    }
    if (raw.trim() === "") {
      if (field.required) errors[field.name] = "Required";
      continue;
    }
    if (field.kind === "number" || field.kind === "integer") {
      const number = Number(raw);
      if (!Number.isFinite(number) || (field.kind === "integer" && !Number.isInteger(number))) {
        errors[field.name] = field.kind === "integer" ? "Enter a whole number" : "Enter a number";
      } else parameters[field.name] = number;
    } else if (field.kind === "json") {
      try {
        parameters[field.name] = JSON.parse(raw);
      } catch {
        errors[field.name] = "Enter valid JSON";
      }
    } else parameters[field.name] = raw;
  }
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, parameters };
}

/**
 * FastAPI-style 422 detail (`[{loc, msg}]`) as messages by parameter name; what names no
 * parameter goes under "" (shown above the form).
 */
export function fieldErrorsFromDetail(detail: unknown, fieldNames: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  const add = (key: string, message: string) => {
    errors[key] = errors[key] ? `${errors[key]}; ${message}` : message;
  };
  if (!Array.isArray(detail)) {
    add("", typeof detail === "string" ? detail : JSON.stringify(detail));
    return errors;
  }
  for (const item of detail as { loc?: unknown[]; msg?: string }[]) {
    const loc = (item.loc ?? []).map(String);
    const field = loc.find((part) => fieldNames.includes(part)) ?? "";
    add(field, item.msg ?? "Invalid value");
  }
  return errors;
}
