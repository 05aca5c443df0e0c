import { describe, expect, it } from "vitest";
import { newRowId, newRunId } from "../src/ids.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("ids", () => {
  it("are UUIDs that sort in the order they were made, even within a millisecond (so inserts append to the index)", () => {
    for (const make of [newRowId, newRunId]) {
      const ids = Array.from({ length: 5_000 }, () => make());
      expect(ids.every((id) => UUID.test(id))).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      // Postgres orders uuids by their bytes, which is the order of their lowercase hex text.
      expect([...ids].sort()).toEqual(ids);
    }
  });
});
