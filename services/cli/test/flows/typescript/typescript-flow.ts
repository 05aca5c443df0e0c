// A TypeScript flow as users write them: type-only imports, an enum, a `.js` specifier for a `.ts` file.
import { flow, task } from "@sluice/sdk";
import { Check, checkRows, type Row } from "./rows.js";

const countRows = task(
  { name: "count_rows" },
  async (rows: Row[]): Promise<number> => checkRows(rows, Check.NonEmpty).length,
);

export default flow({ name: "TypeScript Flow" }, async ({ count }: { count: number }) => {
  const rows: Row[] = Array.from({ length: count }, (_, id) => ({ id, name: `row ${id}` }));
  return `counted ${await countRows(rows)} rows`;
});
