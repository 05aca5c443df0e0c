/**
 * Module hooks that let Node import a user's TypeScript flow files: each `.ts` file is compiled to
 * JavaScript by esbuild as it loads (types stripped, nothing checked, tsconfig.json not read),
 * with an inline source map so stack traces point into the TypeScript. Runs on Node's loader
 * thread, registered by `importUserModule` the first time a TypeScript file is imported.
 *
 * Only what flow code needs: ESM `.ts`/`.mts` files, and relative imports from them written the
 * NodeNext way (`./tasks.js` for `tasks.ts`), with `.ts`, or without an extension.
 */
import { statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { LoadHook, ResolveHook } from "node:module";
import { fileURLToPath } from "node:url";
import { stop, transform } from "esbuild";
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

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const { parentURL } = context;
  const relative = specifier.startsWith("./") || specifier.startsWith("../");
  // The .ts file first, as TypeScript resolves it: a stale compiled .js beside it is not what was type-checked.
  if (relative && parentURL?.startsWith("file:") && TYPESCRIPT_FILE.test(parentURL)) {
    const url = typescriptFileFor(specifier, parentURL);
    if (url) return { url, format: "module", shortCircuit: true };
  }
  return nextResolve(specifier, context);
};

let compiling = 0;
let idleTimer: NodeJS.Timeout | undefined;

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith("file:") || !TYPESCRIPT_FILE.test(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  clearTimeout(idleTimer);
  compiling++;
  try {
    const { code } = await transform(await readFile(path, "utf8"), {
      loader: "ts",
      format: "esm",
      target: "node20",
      sourcemap: "inline",
      sourcefile: path,
    });
    return { format: "module", source: code, shortCircuit: true };
  } finally {
    if (--compiling === 0) idleTimer = setTimeout(() => void stop(), ESBUILD_IDLE_MS).unref();
  }
};
