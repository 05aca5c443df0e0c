/**
 * Importing user code (flow files, deploy scripts). Sluice itself runs as compiled JavaScript, so
 * Node needs help with a user's TypeScript: the first TypeScript file imported registers the
 * hooks of `typescript-hooks.ts` (esbuild). Where Node has `module.registerHooks` (22.15 and
 * later) they run in this thread; before that, on Node's loader thread, which then stays for the
 * life of the process with a heap of its own (12-18 MB of a worker's RSS). A process that only
 * ever imports JavaScript registers nothing; and when this module itself runs from its sources
 * (vitest), whatever runs it already compiles TypeScript.
 */
import * as nodeModule from "node:module";
import { pathToFileURL } from "node:url";

const RUNNING_FROM_SOURCES = import.meta.url.endsWith(".ts");
/** The files the TypeScript hooks compile: ESM TypeScript. */
export const TYPESCRIPT_FILE = /\.m?ts$/;

/** `module.registerHooks` (Node 22.15+, 23.5+), which the Node 20 types do not know. */
type RegisterHooks = (hooks: { resolve: unknown; load: unknown }) => unknown;
const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks;

/** Set once the TypeScript hooks are registered: what ends their compiler after an import, if anything. */
let typescriptHooks: Promise<(() => Promise<void>) | undefined> | undefined;

/** Imports the file at this absolute path, compiling it first if it is TypeScript. */
export async function importUserModule(path: string): Promise<Record<string, unknown>> {
  if (TYPESCRIPT_FILE.test(path) && !RUNNING_FROM_SOURCES) typescriptHooks ??= registerTypeScriptHooks();
  const stopCompiler = await typescriptHooks;
  try {
    return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } finally {
    await stopCompiler?.();
  }
}

async function registerTypeScriptHooks(): Promise<(() => Promise<void>) | undefined> {
  // Errors thrown in a flow then show its TypeScript lines.
  process.setSourceMapsEnabled(true);
  const hooksUrl = new URL("./typescript-hooks.js", import.meta.url);
  if (!registerHooks) {
    nodeModule.register(hooksUrl);
    return undefined; // the loader thread stops its compiler itself, once idle
  }
  const hooks = (await import(hooksUrl.href)) as typeof import("./typescript-hooks.js");
  registerHooks({ resolve: hooks.resolve, load: hooks.loadSync });
  return hooks.stopCompiler;
}
