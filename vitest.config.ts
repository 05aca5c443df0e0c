import { defineConfig } from "vitest/config";

// The tests import Sluice's packages from their TypeScript sources (the "sluice-source" export
// condition); the `sluice` processes they start run the compiled JavaScript, which the global setup
// brings up to date (`tsc -b`).
const sources = { conditions: ["sluice-source"] };

export default defineConfig({
  resolve: sources,
  ssr: { resolve: { ...sources, externalConditions: ["sluice-source"] } },
  test: {
    include: [
      "libs/*/test/**/*.test.ts",
      "services/*/test/**/*.test.ts",
      "examples/test/**/*.test.ts",
      "infra/test/**/*.test.ts",
      "bench/test/**/*.test.ts",
    ],
    globalSetup: ["libs/testing/src/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
