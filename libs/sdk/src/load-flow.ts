/** Loading user flow code: `FILE:export`, the default export, or the only exported flow of a file. */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidInputError } from "@sluice/core";
import { type Flow, isFlow } from "./flow.js";
import { importUserModule } from "./user-modules.js";

export async function loadFlow(target: string, baseDir = process.cwd()): Promise<Flow<unknown, unknown>> {
  const { file, exportName } = parseEntrypoint(target);
  const path = resolve(baseDir, file);
  if (!existsSync(path)) throw new InvalidInputError(`No such file: ${file}`);
  const module = await importUserModule(path);
  if (exportName) {
    const value = module[exportName];
    if (!isFlow(value)) throw new InvalidInputError(`${file} has no exported flow named '${exportName}'`);
    return value;
  }
  if (isFlow(module.default)) return module.default;
  const flows = Object.entries(module).filter(([, value]) => isFlow(value));
  if (flows.length === 1) return flows[0]?.[1] as Flow<unknown, unknown>;
  if (flows.length === 0) throw new InvalidInputError(`${file} exports no flow: export one made with flow()`);
  const names = flows.map(([name]) => name).join(", ");
  throw new InvalidInputError(`${file} exports several flows (${names}): choose one with ${file}:<name>`);
}

/** `--param key=value` pairs; values are JSON when they parse as JSON, strings otherwise. */
export function parseParams(pairs: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError(`--param '${pair}' is not key=value`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      params[key] = JSON.parse(raw);
    } catch {
      params[key] = raw;
    }
  }
  return params;
}

/** Splits "path/to/file.ts:exportName" (the export is optional). */
export function parseEntrypoint(target: string): { file: string; exportName: string | undefined } {
  const match = /^(.*?)(?::([A-Za-z_$][\w$]*))?$/.exec(target);
  return { file: match?.[1] ?? target, exportName: match?.[2] };
}

/** The name under which `flow` is exported from its file, to build a deployment entrypoint. */
export async function exportNameOf(flow: Flow<unknown, unknown>, file: string): Promise<string> {
  const module = await importUserModule(resolve(file));
  const named = Object.entries(module).find(([name, value]) => value === flow && name !== "default");
  if (named) return named[0];
  if (module.default === flow) return "default";
  throw new InvalidInputError(`Flow '${flow.flowName}' is not exported from ${file}: export it so workers can load it`);
}
