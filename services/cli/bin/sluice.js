#!/usr/bin/env node
// The `sluice` command. It runs Sluice's compiled JavaScript (dist/, built by `npm run build`, which
// `npm ci` runs): no TypeScript loader in the server and workers, and a user's TypeScript flows are
// compiled as they load (see libs/sdk/src/user-modules.ts).
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("sluice is not built yet: run `npm run build` in the Sluice checkout (npm ci does it too)\n");
  process.exit(1);
}
await import(main.href);
