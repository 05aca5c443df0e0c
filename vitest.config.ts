import { defineConfig } from "vitest/config";

// The tests import Sluice's packages from their TypeScript sources (the "sluice-source" export
// condition); the `sluice` processes they start run the compiled JavaScript, which the global setup
// brings up to date (`tsc -b`).
// Conditions given replace Vite's defaults, so these are Vite's defaults plus ours.
const SOURCES = "sluice-source";

export default defineConfig({
  resolve: { conditions: ["module", "browser", "development|production", SOURCES] },
  ssr: {
    resolve: {
      conditions: ["module", "node", "development|production", SOURCES],
      externalConditions: ["node", "module-sync", SOURCES],
    },
  },
  test: {
    include: [
      "libs/*/test/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "examples/test/**/*.test.ts",
      "infra/test/**/*.test.ts",
    ],
    globalSetup: ["libs/testing/src/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
