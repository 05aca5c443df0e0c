/**
 * The TypeScript hooks as `module.registerHooks` calls them, synchronously in the importing thread
 * (Node 22.15 and later; the image's Node). services/cli/test/typescript-flows.test.ts runs a
 * TypeScript flow end to end on the Node that runs the tests.
 */
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";
import { loadSync, resolve, stopCompiler } from "../src/typescript-hooks.js";

const flows = new URL("../../../services/cli/test/flows/typescript/", import.meta.url);
const flowUrl = new URL("typescript-flow.ts", flows).href;

afterAll(() => stopCompiler());

it("resolves a NodeNext .js specifier of a TypeScript file to the .ts file, not the stale .js beside it", () => {
  const passedOn: string[] = [];
  const next = (specifier: string) => {
    passedOn.push(specifier);
    return { url: `passed:${specifier}` };
  };
  const context = { parentURL: flowUrl, conditions: [], importAttributes: {}, importAssertions: {} };
  expect(resolve("./rows.js", context, next as never)).toEqual({
    url: new URL("rows.ts", flows).href,
    format: "module",
    shortCircuit: true,
  });
  expect(resolve("node:fs", context, next as never)).toEqual({ url: "passed:node:fs" });
  expect(passedOn).toEqual(["node:fs"]);
});

it("compiles a TypeScript file synchronously, with its source map inline, and leaves JavaScript to Node", () => {
  const context = { conditions: [], format: undefined, importAttributes: {}, importAssertions: {} };
  const next = (url: string) => ({ url, passedOn: true });
  const rows = new URL("rows.ts", flows).href;
  const loaded = loadSync(rows, context, next) as { format: string; source: string };
  expect(loaded.format).toBe("module");
  expect(loaded.source).not.toMatch(/interface Row/);
  expect(loaded.source).toMatch(/Check2\["NonEmpty"\] = "non-empty"/); // the enum, as JavaScript
  expect(loaded.source).toMatch(/sourceMappingURL=data:application\/json;base64,/);
  const javascript = pathToFileURL("/somewhere/module.js").href;
  expect(loadSync(javascript, context, next)).toEqual({ url: javascript, passedOn: true });
});
