/** The deployment "Run" form: fields from the parameter JSON schema, values parsed, 422 errors by field. */
import { describe, expect, it } from "vitest";
import { fieldErrorsFromDetail, parameterFields, parseParameterValues } from "../../src/lib/parameter-form";

const schema = {
  type: "object",
  properties: {
    apiUrl: { type: "string", format: "uri", description: "Where to extract from" },
    tableName: { type: "string", default: "users" },
    batch: { type: "integer", default: 100 },
    dryRun: { type: "boolean", default: false },
    mode: { type: "string", enum: ["full", "incremental"] },
    options: { type: "object", default: { a: 1 } },
  },
  required: ["apiUrl", "tableName", "batch", "dryRun", "mode", "options"],
};

describe("parameter form", () => {
  it("has one field per parameter with the deployment's values over the schema's defaults", () => {
    const fields = parameterFields(schema, { tableName: "people" });
    expect(fields.map((field) => [field.name, field.kind, field.initial, field.required])).toEqual([
      ["apiUrl", "string", "", true],
      ["tableName", "string", "people", false],
      ["batch", "integer", "100", false],
      ["dryRun", "boolean", "false", false],
      ["mode", "enum", "", true],
      ["options", "json", '{\n  "a": 1\n}', false],
    ]);
    expect(fields[0]?.description).toBe("Where to extract from");
    expect(fields[4]?.options).toEqual(["full", "incremental"]);
  });

  it("parses the inputs into typed parameters, or says what is wrong with each", () => {
    const fields = parameterFields(schema);
    expect(
      parseParameterValues(fields, { apiUrl: "http://x", batch: "20", dryRun: "true", mode: "full", options: "[1]" }),
    ).toEqual({
      ok: true,
      parameters: { apiUrl: "http://x", tableName: "users", batch: 20, dryRun: true, mode: "full", options: [1] },
    });
    expect(parseParameterValues(fields, { batch: "2.5", options: "{nope" })).toEqual({
      ok: false,
      errors: { apiUrl: "Required", batch: "Enter a whole number", mode: "Required", options: "Enter valid JSON" },
    });
  });

  it("maps the API's 422 detail to the fields it names", () => {
    const detail = [
      { loc: ["body", "parameters", "apiUrl"], msg: 'Must match format "uri"', type: "format" },
      { loc: ["body", "parameters", "batch"], msg: "Must be >= 1", type: "minimum" },
      { loc: ["body", "parameters"], msg: "Something else", type: "other" },
    ];
    expect(fieldErrorsFromDetail(detail, ["apiUrl", "batch"])).toEqual({
      apiUrl: 'Must match format "uri"',
      batch: "Must be >= 1",
      "": "Something else",
    });
    expect(fieldErrorsFromDetail("Deployment not found", ["apiUrl"])).toEqual({ "": "Deployment not found" });
  });
});
