/** W2's flow: .map() over N no-op task runs. */
import { flow, task } from "@sluice/sdk";
import { z } from "zod";

export const noopTask = task({ name: "noop" }, async (n: number) => n);

export const noopMap = flow(
  { name: "Noop Map", parameters: z.object({ count: z.number().int().positive() }) },
  async ({ count }) => (await noopTask.map(Array.from({ length: count }, (_, i) => i))).length,
);
