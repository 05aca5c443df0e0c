import { describe, expect, it } from "vitest";
import { newRowId, newRunId } from "../src/ids.js";

const UUID = (version: number) =>
  new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-${version}[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`);

describe("ids", () => {
  it("row ids sort in the order they were made, even thousands within a millisecond (inserts append to the index)", () => {
    const ids = Array.from({ length: 5_000 }, () => newRowId());
    expect(ids.every((id) => UUID(7).test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Postgres orders uuids by their bytes, which is the order of their lowercase hex text.
    expect([...ids].sort()).toEqual(ids);
  });

  it("run ids are random, so runs made together differ in their first characters", () => {
    const ids = Array.from({ length: 100 }, () => newRunId());
    expect(ids.every((id) => UUID(4).test(id))).toBe(true);
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBe(100);
  });
});
