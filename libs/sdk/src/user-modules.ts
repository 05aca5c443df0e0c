/**
 * Importing user code (flow files, deploy scripts). Sluice itself runs as compiled JavaScript, so
 * Node needs help with a user's TypeScript: the first TypeScript file imported registers the
 * hooks of `typescript-hooks.ts` (esbuild, on Node's loader thread). A process that only ever
 * imports JavaScript never starts that thread; and when this module itself runs from its sources
 * (vitest), whatever runs it already compiles TypeScript.
 */
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const RUNNING_FROM_SOURCES = import.meta.url.endsWith(".ts");
/** The files the TypeScript hooks compile: ESM TypeScript. */
export const TYPESCRIPT_FILE = /\.m?ts$/;
let typescriptHooks = false;

/** Imports the file at this absolute path, compiling it first if it is TypeScript. */
export function importUserModule(path: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT_FILE.test(path) && !RUNNING_FROM_SOURCES && !typescriptHooks) {
    typescriptHooks = true;
    register(new URL("./typescript-hooks.js", import.meta.url));
    // Errors thrown in a flow then show its TypeScript lines.
    process.setSourceMapsEnabled(true);
  }
  return import(pathToFileURL(path).href) as Promise<Record<string, unknown>>;
}
