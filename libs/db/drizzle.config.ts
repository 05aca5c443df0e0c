import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "drizzle-kit";

// drizzle-kit resolves paths against the working directory; make them relative to this file so
// `npm run db:generate` (from the repo root) and `npx drizzle-kit generate` (from libs/db) agree.
const here = dirname(fileURLToPath(import.meta.url));
const fromCwd = (path: string) => relative(process.cwd(), resolve(here, path)) || ".";

export default defineConfig({
  dialect: "postgresql",
  schema: fromCwd("./src/schema.ts"),
  out: fromCwd("./migrations"),
  strict: true,
  verbose: true,
});
