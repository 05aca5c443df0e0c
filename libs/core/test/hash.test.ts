import { describe, expect, it } from "vitest";
import { hashTaskInputs, stableStringify } from "../src/index.js";

describe("hashTaskInputs", () => {
  it("is a sha256 hex digest", () => {
    expect(hashTaskInputs("extract", ["https://example.com"])).toMatch(/^[0-9a-f]{64}$/);
  });

  it("does not depend on the key order of objects, at any depth", () => {
    const a = { url: "u", options: { retries: 3, headers: { b: "2", a: "1" } }, list: [{ x: 1, y: 2 }] };
    const b = { list: [{ y: 2, x: 1 }], options: { headers: { a: "1", b: "2" }, retries: 3 }, url: "u" };
    expect(hashTaskInputs("t", [a])).toBe(hashTaskInputs("t", [b]));
    expect(stableStringify(a)).toBe(stableStringify(b));
  });

  it("differs for different inputs", () => {
    const hashes = [
      hashTaskInputs("t", [1]),
      hashTaskInputs("t", ["1"]),
      hashTaskInputs("t", [1, 2]),
      hashTaskInputs("t", [2, 1]),
      hashTaskInputs("t", [{ a: 1 }]),
      hashTaskInputs("t", [{ a: 2 }]),
      hashTaskInputs("t", [{ a: { b: 1 } }]),
      hashTaskInputs("t", [{ a: { b: 2 } }]),
      hashTaskInputs("t", [null]),
      hashTaskInputs("t", ["null"]),
      hashTaskInputs("t", [Number.NaN]),
      hashTaskInputs("t", [true]),
      hashTaskInputs("other-task", [1]),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it("hashes Dates by their instant", () => {
    const at = "2024-05-01T06:00:00.000Z";
    expect(hashTaskInputs("t", [new Date(at)])).toBe(hashTaskInputs("t", [new Date(Date.parse(at))]));
    expect(hashTaskInputs("t", [new Date(at)])).not.toBe(hashTaskInputs("t", [new Date("2024-05-01T06:00:00.001Z")]));
    // A Date is not the same input as its ISO string.
    expect(hashTaskInputs("t", [new Date(at)])).not.toBe(hashTaskInputs("t", [at]));
    // An invalid Date is still an input (toISOString() would throw).
    expect(hashTaskInputs("t", [new Date("nope")])).toMatch(/^[0-9a-f]{64}$/);
  });

  it("treats an undefined property as absent, like JSON", () => {
    expect(hashTaskInputs("t", [{ a: 1, b: undefined }])).toBe(hashTaskInputs("t", [{ a: 1 }]));
    expect(hashTaskInputs("t", [{ a: undefined }])).not.toBe(hashTaskInputs("t", [{ a: null }]));
    expect(() => hashTaskInputs("t", undefined)).not.toThrow();
    expect(() => hashTaskInputs("t", [undefined])).not.toThrow();
  });

  it("hashes objects by their JSON form (URL, Buffer), not as empty objects", () => {
    expect(hashTaskInputs("t", [new URL("https://a.example/x")])).not.toBe(
      hashTaskInputs("t", [new URL("https://b.example/x")]),
    );
    expect(hashTaskInputs("t", [new URL("https://a.example/x")])).toBe(
      hashTaskInputs("t", [new URL("https://a.example/x")]),
    );
    expect(hashTaskInputs("t", [Buffer.from("a")])).not.toBe(hashTaskInputs("t", [Buffer.from("b")]));
    expect(hashTaskInputs("t", [/a+/g])).not.toBe(hashTaskInputs("t", [/b+/g]));
  });

  it("ignores the insertion order of Sets and Maps but not their contents", () => {
    expect(hashTaskInputs("t", [new Set([1, 2, 3])])).toBe(hashTaskInputs("t", [new Set([3, 1, 2])]));
    expect(hashTaskInputs("t", [new Set([1, 2])])).not.toBe(hashTaskInputs("t", [new Set([1, 3])]));
    const m1 = new Map<string, unknown>([
      ["a", 1],
      ["b", { y: 1, x: 2 }],
    ]);
    const m2 = new Map<string, unknown>([
      ["b", { x: 2, y: 1 }],
      ["a", 1],
    ]);
    expect(hashTaskInputs("t", [m1])).toBe(hashTaskInputs("t", [m2]));
    expect(hashTaskInputs("t", [m1])).not.toBe(hashTaskInputs("t", [new Map([["a", 1]])]));
  });

  it("hashes bigints and shared (non-circular) references, and rejects cycles", () => {
    expect(hashTaskInputs("t", [10n])).not.toBe(hashTaskInputs("t", [10]));
    const shared = { k: 1 };
    expect(() => hashTaskInputs("t", [shared, shared, { shared }])).not.toThrow();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => hashTaskInputs("t", [cyclic])).toThrow(/circular/);
    const cyclicMap = new Map<string, unknown>();
    cyclicMap.set("self", cyclicMap);
    expect(() => hashTaskInputs("t", [cyclicMap])).toThrow(/circular/);
  });
});
