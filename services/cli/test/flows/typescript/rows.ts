// Imported by typescript-flow.ts with a NodeNext-style `.js` specifier; types only TypeScript has.
export interface Row {
  id: number;
  name: string;
}

export enum Check {
  NonEmpty = "non-empty",
}

export function checkRows(rows: Row[], check: Check): Row[] {
  if (rows.length === 0) throw new Error(`check ${check} failed: no rows`);
  return rows;
}
