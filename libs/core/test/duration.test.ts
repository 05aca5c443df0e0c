import { describe, expect, it } from "vitest";
import { InvalidInputError, parseDuration } from "../src/index.js";

describe("parseDuration", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["7d", 604_800_000],
    ["2w", 1_209_600_000],
    ["1h30m", 5_400_000],
    ["1h 30m", 5_400_000],
    ["1m30s500ms", 90_500],
    ["1.5h", 5_400_000],
    ["0s", 0],
    [" 30s ", 30_000],
    ["250", 250],
  ])("parses %j", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it("takes numbers as milliseconds", () => {
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(1500)).toBe(1500);
  });

  it.each(["", "   ", "abc", "1x", "h", "30s and more", "s30", "-5s", "1..5s", "1h-30m"])(
    "rejects %j with InvalidInputError",
    (text) => {
      expect(() => parseDuration(text)).toThrow(InvalidInputError);
    },
  );

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])("rejects the number %s", (value) => {
    expect(() => parseDuration(value)).toThrow(InvalidInputError);
  });

  it("says what was wrong, with the INVALID_INPUT code", () => {
    try {
      parseDuration("ten minutes");
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).code).toBe("INVALID_INPUT");
      expect((error as Error).message).toContain("ten minutes");
    }
  });
});
