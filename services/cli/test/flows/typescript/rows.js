// A stale compiled copy beside rows.ts: `./rows.js` from a TypeScript file must load rows.ts, as
// TypeScript resolved it when type-checking, not this.
export const Check = { NonEmpty: "non-empty" };

export function checkRows() {
  throw new Error("the stale rows.js was loaded instead of rows.ts");
}
