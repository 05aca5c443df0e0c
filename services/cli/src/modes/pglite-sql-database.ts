/** SqlDatabase over PGlite: what `useDatabase()` gives flow code in embedded mode. */
import type { SqlDatabase } from "@sluice/core";
import type { EmbeddedDatabase } from "@sluice/db";

export function pgliteSqlDatabase(client: EmbeddedDatabase["client"]): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => ({ rows: (await client.query<Row>(text, params)).rows }),
    transaction: (work) =>
      client.transaction((tx) =>
        work({
          query: async <Row>(text: string, params?: unknown[]) => ({ rows: (await tx.query<Row>(text, params)).rows }),
        }),
      ),
  };
}
