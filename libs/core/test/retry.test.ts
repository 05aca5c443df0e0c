import { describe, expect, it } from "vitest";
import { exponentialBackoff, retryDelayMs } from "../src/index.js";

describe("retryDelayMs", () => {
  it("is 0 without a delay", () => {
    expect(retryDelayMs(undefined, 1)).toBe(0);
    expect(retryDelayMs([], 3)).toBe(0);
  });

  it("uses one number of seconds for every retry", () => {
    expect(retryDelayMs(10, 1)).toBe(10_000);
    expect(retryDelayMs(10, 7)).toBe(10_000);
    expect(retryDelayMs(0.25, 1)).toBe(250);
  });

  it("takes a list per retry, the last one repeating", () => {
    const delays = [1, 5, 30];
    expect([1, 2, 3, 4, 10].map((n) => retryDelayMs(delays, n))).toEqual([1000, 5000, 30_000, 30_000, 30_000]);
  });

  it("never waits a negative time", () => {
    expect(retryDelayMs(-5, 1)).toBe(0);
    expect(retryDelayMs(() => -1, 1)).toBe(0);
  });

  it("calls a function with the retry number", () => {
    const seen: number[] = [];
    const delay = (n: number) => {
      seen.push(n);
      return n * 3;
    };
    expect(retryDelayMs(delay, 2)).toBe(6000);
    expect(seen).toEqual([2]);
  });
});

describe("exponentialBackoff", () => {
  it("gives factor * 2^n seconds, n = 0 for the first retry (Prefect's exponential_backoff)", () => {
    const delay = exponentialBackoff({ backoffFactor: 3 });
    expect([1, 2, 3, 4, 5].map(delay)).toEqual([3, 6, 12, 24, 48]);
    expect(retryDelayMs(delay, 3)).toBe(12_000);
    expect(retryDelayMs(exponentialBackoff({ backoffFactor: 0.5 }), 1)).toBe(500);
  });
});

describe("retry jitter", () => {
  it("adds up to jitterFactor of the delay, driven by the injected random", () => {
    expect(retryDelayMs(10, 1, 0.5, () => 0)).toBe(10_000);
    expect(retryDelayMs(10, 1, 0.5, () => 0.5)).toBe(12_500);
    expect(retryDelayMs(10, 1, 0.5, () => 0.999_999)).toBe(15_000);
  });

  it("stays within [delay, delay * (1 + factor)] for any random value", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = [2, 8, 30];
    for (let i = 0; i < 1000; i++) {
      const retry = 1 + (i % 5);
      const base = retryDelayMs(delays, retry);
      const jittered = retryDelayMs(delays, retry, 0.3, random);
      expect(jittered).toBeGreaterThanOrEqual(base);
      expect(jittered).toBeLessThanOrEqual(base * 1.3);
    }
  });

  it("does not call random when there is no jitter", () => {
    const random = () => {
      throw new Error("random called");
    };
    expect(retryDelayMs(10, 1, 0, random)).toBe(10_000);
  });
});
