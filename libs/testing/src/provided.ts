/** Values the global setup hands to test files through vitest's provide/inject. */
declare module "vitest" {
  export interface ProvidedContext {
    /** Redis for this test run; each test context uses its own key prefix on it. */
    sluiceRedisUrl: string;
    /** A Postgres database on the test server that may create and drop databases. */
    sluiceAdminDatabaseUrl: string;
    /** The migrated database every test database is copied from. */
    sluiceTemplateDatabase: string;
    /** Short id of this test run; test databases and key prefixes embed it so teardown can sweep leftovers. */
    sluiceRunId: string;
    /** A migrated embedded (PGlite) data directory that embedded-mode test homes are copied from. */
    sluiceEmbeddedTemplate: string;
  }
}

export {};
