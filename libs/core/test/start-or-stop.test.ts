import { expect, it } from "vitest";
import { startOrStop } from "../src/index.js";

it("startOrStop stops what started when starting fails, and reports the start's error, not the stop's", async () => {
  const stopErrors: unknown[] = [];
  let stopped = 0;
  const failing = startOrStop(
    async () => {
      throw new Error("port taken");
    },
    async () => {
      stopped++;
      throw new Error("could not close");
    },
    (error) => stopErrors.push(error),
  );
  await expect(failing).rejects.toThrow("port taken");
  expect(stopped).toBe(1);
  expect(stopErrors).toEqual([new Error("could not close")]);

  await startOrStop(
    async () => {},
    async () => {
      stopped++;
    },
  );
  expect(stopped).toBe(1); // a start that succeeds stops nothing
});
