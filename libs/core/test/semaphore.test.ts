import { describe, expect, it } from "vitest";
import { Semaphore } from "../src/index.js";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("Semaphore", () => {
  it("runs at most `limit` at once, the others in the order they came", async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        semaphore.run(async () => {
          started.push(i);
          most = Math.max(most, ++running);
          await tick();
          running--;
          return i * 10;
        }),
      ),
    );
    expect(results).toEqual([0, 10, 20, 30, 40, 50]);
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(semaphore.free).toBe(2);
  });

  it("gives the slot back when the work fails, whether it throws at once or rejects later", async () => {
    const semaphore = new Semaphore(1);
    const throwsAtOnce = (): Promise<never> => {
      throw new Error("at once");
    };
    await expect(semaphore.run(throwsAtOnce)).rejects.toThrow("at once");
    await expect(semaphore.run(async () => Promise.reject(new Error("later")))).rejects.toThrow("later");
    expect(semaphore.free).toBe(1);
    await expect(semaphore.run(async () => "still usable")).resolves.toBe("still usable");
  });
});
