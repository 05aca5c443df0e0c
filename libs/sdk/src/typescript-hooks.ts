/**
 * Module hooks that let Node import a user's TypeScript flow files: each `.ts` file is compiled to
 * JavaScript by esbuild as it loads (types stripped, nothing checked, tsconfig.json not read),
 * with an inline source map so stack traces point into the TypeScript. Registered by
 * `importUserModule` the first time a TypeScript file is imported: on Node 22.15 and later in the
 * importing thread (`registerHooks`, with `resolve` and `loadSync`), before that on Node's loader
 * thread (`register`, with `resolve` and `load`).
 *
 * Only what flow code needs: ESM `.ts`/`.mts` files, and relative imports from them written the
 * NodeNext way (`./tasks.js` for `tasks.ts`), with `.ts`, or without an extension.
 */
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { LoadHook, ResolveHook } from "node:module";
import { fileURLToPath } from "node:url";
import { stop, type TransformOptions, transform, transformSync } from "esbuild";
import { TYPESCRIPT_FILE } from "./user-modules.js";

/** esbuild compiles in a helper process: stopped once no file has loaded for this long (a worker loads its flows once). */
const ESBUILD_IDLE_MS = 5_000;

/** The TypeScript file a relative specifier of a TypeScript file means, if there is one. */
function typescriptFileFor(specifier: string, parentURL: string): string | null {
  const candidates = /\.m?js$/.test(specifier)
    ? [specifier.replace(/\.js$/, ".ts").replace(/\.mjs$/, ".mts")]
    : TYPESCRIPT_FILE.test(specifier)
      ? []
      : [`${specifier}.ts`, `${specifier}/index.ts`];
  for (const candidate of candidates) {
    const url = new URL(candidate, parentURL);
    if (statSync(fileURLToPath(url), { throwIfNoEntry: false })?.isFile()) return url.href;
  }
  return null;
}

/** Not async: the same function serves `registerHooks`, which wants an answer, not a promise. */
export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  const { parentURL } = context;
  const relative = specifier.startsWith("./") || specifier.startsWith("../");
  // The .ts file first, as TypeScript resolves it: a stale compiled .js beside it is not what was type-checked.
  if (relative && parentURL?.startsWith("file:") && TYPESCRIPT_FILE.test(parentURL)) {
    const url = typescriptFileFor(specifier, parentURL);
    if (url) return { url, format: "module", shortCircuit: true };
  }
  return nextResolve(specifier, context);
};

const compileOptions = (path: string): TransformOptions => ({
  loader: "ts",
  format: "esm",
  target: "node20",
  sourcemap: "inline",
  sourcefile: path,
});

let compiling = 0;
let idleTimer: NodeJS.Timeout | undefined;

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith("file:") || !TYPESCRIPT_FILE.test(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  clearTimeout(idleTimer);
  compiling++;
  try {
    const { code } = await transform(await readFile(path, "utf8"), compileOptions(path));
    return { format: "module", source: code, shortCircuit: true };
  } finally {
    if (--compiling === 0) idleTimer = setTimeout(() => void stop(), ESBUILD_IDLE_MS).unref();
  }
};

/**
 * `load` for `registerHooks`, compiling synchronously: esbuild then compiles in a worker thread of
 * its own, which `stopCompiler` ends once the import is done (a thread's heap is 15-20 MB, a
 * tenth of a worker's RSS).
 */
export function loadSync(
  url: string,
  context: Parameters<LoadHook>[1],
  nextLoad: (url: string, context?: Parameters<LoadHook>[1]) => unknown,
): unknown {
  if (!url.startsWith("file:") || !TYPESCRIPT_FILE.test(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = transformSync(readFileSync(path, "utf8"), compileOptions(path));
  return { format: "module", source: code, shortCircuit: true };
}

/** Ends esbuild's helper (thread or process) until the next file to compile starts it again. */
export function stopCompiler(): Promise<void> {
  return stop();
}
