/** A flow mapping a task over many items: the task runs spread over every worker of the pool. */
import { flow, task } from "@sluice/sdk";
import { z } from "zod";

export const square = task({ name: "square" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return n * n;
});

export const mappedFlow = flow(
  { name: "Mapped Flow", parameters: z.object({ count: z.number().int().default(1000) }) },
  async ({ count }) => square.map(Array.from({ length: count }, (_, i) => i)),
);
