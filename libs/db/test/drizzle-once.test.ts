/**
 * drizzle-orm is loaded once, as CommonJS (libs/db/src/drizzle.ts): its ESM build costs Node 24
 * about 0.4 s and 190 MB at the start of every `sluice` process. Nothing else may import its values.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { eq, pgTable, sql } from "../src/drizzle.js";
import { sql as exported } from "../src/index.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name === "dist" ? [] : sources(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

it("takes drizzle's values from its CommonJS build, and Sluice's packages take them from @sluice/db", () => {
  const require = createRequire(import.meta.url);
  expect(sql).toBe(require("drizzle-orm").sql);
  expect(eq).toBe(require("drizzle-orm").eq);
  expect(pgTable).toBe(require("drizzle-orm/pg-core").pgTable);
  expect(exported).toBe(sql);
});

it("is imported by value nowhere else in the sources (type imports are erased)", () => {
  const valueImport = /^\s*import\s+(?!type\b)[^;]*?from\s+"drizzle-orm[^"]*"|import\(\s*"drizzle-orm/m;
  const offenders = ["libs", "services"]
    .flatMap((dir) => sources(join(root, dir)))
    .filter((path) => path.includes(`${sep}src${sep}`) && !path.endsWith(join("libs", "db", "src", "drizzle.ts")))
    .filter((path) => valueImport.test(readFileSync(path, "utf8")))
    .map((path) => relative(root, path));
  expect(offenders).toEqual([]);
});
