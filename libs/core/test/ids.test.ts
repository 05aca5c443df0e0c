import { afterEach, describe, expect, it, vi } from "vitest";
import { newRowId, newRunId } from "../src/ids.js";

const UUID = (version: number) =>
  new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-${version}[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`);

afterEach(() => vi.restoreAllMocks());

describe("ids", () => {
  it("row ids sort in the order they were made, even thousands within a millisecond (inserts append to the index)", () => {
    const ids = Array.from({ length: 5_000 }, () => newRowId());
    expect(ids.every((id) => UUID(7).test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Postgres orders uuids by their bytes, which is the order of their lowercase hex text.
    expect([...ids].sort()).toEqual(ids);
  });

  it("row ids carry the time they were made, in milliseconds, in their first 48 bits", () => {
    const before = Date.now();
    const id = newRowId();
    const time = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now() + 1);
    // A time whose six bytes all differ: each lands in its place, the two above 2^32 too.
    vi.spyOn(Date, "now").mockReturnValue(0x1234_5678_9abc);
    expect(newRowId().slice(0, 18)).toBe("12345678-9abc-7000");
    expect(newRowId().slice(0, 18)).toBe("12345678-9abc-7001");
  });

  it("run ids are random, so runs made together differ in their first characters", () => {
    const ids = Array.from({ length: 1_000 }, () => newRunId());
    expect(ids.every((id) => UUID(4).test(id))).toBe(true);
    expect(new Set(ids.slice(0, 100).map((id) => id.slice(0, 8))).size).toBe(100);
    // Every hex digit outside the version and variant takes all 16 values.
    const digits = Array.from({ length: 36 }, (_, at) => new Set(ids.map((id) => id[at])).size);
    expect(digits.filter((count) => count === 16).length).toBe(30);
  });
});
