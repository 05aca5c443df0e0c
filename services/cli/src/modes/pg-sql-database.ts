/** SqlDatabase over a pg pool: what `useDatabase()` gives flow code in cluster mode. */
import type { SqlDatabase } from "@sluice/core";
import type pg from "pg";

export function pgSqlDatabase(pool: pg.Pool): SqlDatabase {
  return {
    query: async <Row>(text: string, params?: unknown[]) => {
      const result = await pool.query(text, params);
      return { rows: result.rows as Row[] };
    },
    transaction: async (work) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work({
          query: async <Row>(text: string, params?: unknown[]) => ({
            rows: (await client.query(text, params)).rows as Row[],
          }),
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
