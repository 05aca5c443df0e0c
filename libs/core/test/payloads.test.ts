import { describe, expect, it } from "vitest";
import { encodePayload, inlinePayload, isPayloadRef, jsonLengthWithin, measureJson } from "../src/index.js";

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

const fixtures: [string, unknown][] = [
  ["a number", 42],
  ["numbers JSON writes its own way", [0.1, -0, 1e21, 1e-7, -5, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity]],
  ["booleans and null", [true, false, null]],
  ["a plain string", "hello"],
  ["strings with escapes", ['say "hi"', "back\\slash", "line\nbreak\ttab", "\u0001\u001f", "</script>"]],
  ["non-ASCII and surrogates", ["héllo wörld", "日本語", "emoji 😀", "lone \ud800 surrogate", "\udc00"]],
  ["nested objects", { url: "s3://bucket/key", options: { retries: 3, headers: { a: "1" } }, list: [{ x: 1 }, []] }],
  [
    "omitted members and nulls in arrays",
    { a: undefined, b: () => 1, c: Symbol("s"), d: 1, list: [undefined, () => 1] },
  ],
  ["only omitted members", { a: undefined }],
  ["dates and toJSON", { when: new Date(0), custom: { toJSON: (key: string) => `key:${key}` }, list: [new Date(1)] }],
  ["toJSON returning undefined", { gone: { toJSON: () => undefined }, kept: 1 }],
  ["boxed primitives", [Object(1), Object("s"), Object(false)]],
  [
    "class instances, maps, sets, typed arrays",
    [new Point(1, 2), new Map([[1, 2]]), new Set([1]), new Uint8Array([1, 2])],
  ],
  // biome-ignore lint/suspicious/noSparseArray: what JSON does with holes
  ["sparse arrays", [1, , 3]],
  ["empty containers", [{}, [], ""]],
  ["unicode keys", { ключ: 1, 'quo"te': 2 }],
];

describe("jsonLengthWithin", () => {
  it.each(fixtures)("is the length of JSON.stringify for %s", (_, value) => {
    const json = JSON.stringify(value);
    expect(jsonLengthWithin(value, Number.MAX_SAFE_INTEGER)).toBe(json.length);
    expect(jsonLengthWithin(value, json.length)).toBe(json.length);
    expect(jsonLengthWithin(value, json.length - 1)).toBeNull();
  });

  it("stops counting past the limit, cycles and BigInt included", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonLengthWithin(cyclic, 1000)).toBeNull();
    expect(jsonLengthWithin([1n], 1000)).toBeNull();
    expect(jsonLengthWithin("x".repeat(10_000_000), 64 * 1024)).toBeNull();
    expect(jsonLengthWithin(undefined, 1000)).toBeNull();
  });
});

describe("measureJson", () => {
  it("says why there is no length: over the limit, no JSON at all, or the error JSON.stringify would throw", () => {
    expect(measureJson({ a: [1, 2] }, 100)).toBe(JSON.stringify({ a: [1, 2] }).length);
    expect(
      measureJson(
        Array.from({ length: 100_000 }, (_, i) => i),
        64 * 1024,
      ),
    ).toBe("over-limit");
    expect(measureJson(() => 1, 100)).toBe("no-json");
    const measured = measureJson({ n: 1n }, 100);
    expect(measured).toEqual({ error: expect.any(TypeError) });
  });
});

describe("encodePayload", () => {
  const limit = 100;
  const ofLength = (length: number) => "x".repeat(length - 4); // ["…"]

  it("keeps a payload at the limit inline, as the value itself", () => {
    const args = [ofLength(limit)];
    expect(JSON.stringify(args).length).toBe(limit);
    const encoded = encodePayload(args, "run/args", limit);
    expect(encoded.stored).toBeNull();
    expect(encoded.value).toBe(args);
  });

  it("puts a payload over the limit in the store, serialized once, and carries a reference", () => {
    const args = [ofLength(limit + 1)];
    const encoded = encodePayload(args, "run/args", limit);
    expect(encoded.stored).toEqual({ key: "run/args", json: JSON.stringify(args) });
    expect(encoded.value).toEqual({ $ref: "run/args", bytes: limit + 1 });
    expect(isPayloadRef(encoded.value)).toBe(true);
  });

  it("counts JSON escapes: a short string full of quotes can be over the limit", () => {
    const value = '"'.repeat(60); // 122 characters of JSON
    expect(encodePayload(value, "k", limit).stored?.json).toBe(JSON.stringify(value));
  });

  it("keeps everything inline with an infinite limit", () => {
    const big = "x".repeat(1_000_000);
    expect(encodePayload(big, "k", Number.POSITIVE_INFINITY)).toEqual({ value: big, stored: null });
  });

  it("never mistakes a value for a reference: values with $ref or $inline keys are wrapped", () => {
    for (const value of [{ $ref: "#/definitions/user" }, { $inline: 1 }, { $ref: 1, other: true }]) {
      const encoded = encodePayload(value, "k", limit);
      const received = JSON.parse(JSON.stringify(encoded.value)) as unknown;
      expect(isPayloadRef(received)).toBe(false);
      expect(inlinePayload(received)).toEqual(value);
    }
    for (const value of [1, "s", null, [1, { $ref: "x" }], { a: 1 }]) {
      const encoded = encodePayload(value, "k", limit);
      expect(encoded.value).toBe(value); // unchanged: the common case costs nothing
      expect(isPayloadRef(encoded.value)).toBe(false);
      expect(inlinePayload(encoded.value)).toBe(value);
    }
  });

  it("throws as JSON.stringify does for what cannot be serialized", () => {
    expect(() => encodePayload([1n], "k", limit)).toThrow(TypeError);
  });
});
