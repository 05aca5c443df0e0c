/**
 * drizzle-orm, loaded as CommonJS: every value Sluice takes from drizzle comes from here (types
 * come from "drizzle-orm" itself), so one copy of it is loaded.
 *
 * Its ESM build made Node 24 look up drizzle's package.json (179 KB, 447 exports) once for each of
 * its module files and deserialize it every time (nodejs/node#60397): importing it took 460 ms and
 * left 250 MB of RSS, where Node 20 took 200 ms and 66 MB, and every `sluice` process paid it at
 * start. Its CommonJS build (`.cjs` files, which need no package scope lookup) loads in 83 ms and
 * 71 MB.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const {
  and,
  arrayContains,
  arrayOverlaps,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  gte,
  ilike,
  inArray,
  isNull,
  lt,
  lte,
  notInArray,
  or,
  sql,
} = require("drizzle-orm") as typeof import("drizzle-orm");

export const {
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  json,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} = require("drizzle-orm/pg-core") as typeof import("drizzle-orm/pg-core");

export const { drizzle: drizzlePostgres } =
  require("drizzle-orm/node-postgres") as typeof import("drizzle-orm/node-postgres");

export const { migrate: migratePostgres } =
  require("drizzle-orm/node-postgres/migrator") as typeof import("drizzle-orm/node-postgres/migrator");

/** drizzle's PGlite adapter and migrator, loaded only in embedded mode. */
export function pgliteDrizzle(): {
  drizzle: typeof import("drizzle-orm/pglite").drizzle;
  migrate: typeof import("drizzle-orm/pglite/migrator").migrate;
} {
  return {
    drizzle: (require("drizzle-orm/pglite") as typeof import("drizzle-orm/pglite")).drizzle,
    migrate: (require("drizzle-orm/pglite/migrator") as typeof import("drizzle-orm/pglite/migrator")).migrate,
  };
}
