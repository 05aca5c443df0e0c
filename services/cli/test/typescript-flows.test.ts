/**
 * `sluice` runs compiled JavaScript and compiles a user's TypeScript flow files as they load
 * (libs/sdk/src/typescript-hooks.ts): TypeScript-only syntax, NodeNext `.js` specifiers for `.ts`
 * files, and stack traces that point at the TypeScript lines.
 */
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { clusterEnv, runSluice } from "../../../examples/test/run-cli.js";

const FLOW = "services/cli/test/flows/typescript/typescript-flow.ts";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(async () => {
  await ctx.close();
});

it("runs a TypeScript flow that imports a TypeScript module by its .js name (not a stale .js beside it)", async () => {
  const result = await runSluice(["run", FLOW, "--param", "count=3"], { ...clusterEnv(ctx), LOG_LEVEL: "info" });
  expect(result.stderr).not.toMatch(/Error/);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/Task run 'count_rows-0' - Finished in state Completed\(\)/);
  expect(result.stdout).toMatch(/Flow run '[\w-]+' - Finished in state Completed\(\)/);
});

it("reports a failure at its line in the TypeScript source", async () => {
  const result = await runSluice(["run", FLOW, "--param", "count=0"], clusterEnv(ctx));
  expect(result.code).toBe(1);
  const output = result.stdout + result.stderr;
  expect(output).toMatch(/Finished in state Failed\('check non-empty failed: no rows'\)/);
  // rows.ts line 12 is the `throw`; esbuild's output has it elsewhere, without the source map.
  expect(output).toMatch(/at checkRows \(\S*services\/cli\/test\/flows\/typescript\/rows\.ts:12:\d+\)/);
});
