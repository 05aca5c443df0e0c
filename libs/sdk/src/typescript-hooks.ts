/**
 * Module hooks that let Node import a user's TypeScript flow files: each `.ts` file is compiled to
 * JavaScript by esbuild as it loads (types stripped, nothing checked), with an inline source map so
 * stack traces point into the TypeScript. Runs on Node's loader thread, registered by
 * `importUserModule` the first time a TypeScript file is imported.
 *
 * Only what flow code needs: ESM `.ts`/`.mts` files, and relative imports written the NodeNext
 * way (`./tasks.js` for `tasks.ts`), with `.ts`, or without an extension.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { LoadHook, ResolveHook } from "node:module";
import { fileURLToPath } from "node:url";
import { transform } from "esbuild";

const TYPESCRIPT = /\.m?ts$/;

/** The TypeScript file a relative specifier means when Node finds nothing under its own name. */
function typescriptFileFor(specifier: string, parentURL: string): string | null {
  const candidates = /\.m?js$/.test(specifier)
    ? [specifier.replace(/\.js$/, ".ts").replace(/\.mjs$/, ".mts")]
    : [`${specifier}.ts`, `${specifier}/index.ts`];
  for (const candidate of candidates) {
    const url = new URL(candidate, parentURL);
    const path = fileURLToPath(url);
    if (existsSync(path) && statSync(path).isFile()) return url.href;
  }
  return null;
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const relative = specifier.startsWith("./") || specifier.startsWith("../");
    const { parentURL } = context;
    if (relative && parentURL?.startsWith("file:") && TYPESCRIPT.test(parentURL)) {
      const url = typescriptFileFor(specifier, parentURL);
      if (url) return { url, format: "module", shortCircuit: true };
    }
    throw error;
  }
};

export const load: LoadHook = async (url, context, nextLoad) => {
  if (!url.startsWith("file:") || !TYPESCRIPT.test(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { code } = await transform(await readFile(path, "utf8"), {
    loader: "ts",
    format: "esm",
    target: "node20",
    sourcemap: "inline",
    sourcefile: path,
  });
  return { format: "module", source: code, shortCircuit: true };
};
