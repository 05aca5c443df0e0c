/** W1's flows: a chain of sequential tasks, each sleeping (Windmill's benchmark: 40 × 10 ms). */
import { setTimeout as sleep } from "node:timers/promises";
import { flow, task } from "@sluice/sdk";
import { z } from "zod";

export const sleepTask = task({ name: "sleep" }, async (ms: number) => {
  await sleep(ms);
  return ms;
});

const parameters = z.object({
  length: z.number().int().positive().default(40),
  taskMs: z.number().int().nonnegative().default(10),
});

/** Every task run inline, in the flow's process. */
export const chainInline = flow({ name: "Chain Inline", parameters }, async ({ length, taskMs }) => {
  for (let i = 0; i < length; i++) await sleepTask(taskMs);
  return length;
});

/** Every task `.submit()`ted to the task queue (any worker of the pool takes it), one after the other. */
export const chainQueued = flow({ name: "Chain Queued", parameters }, async ({ length, taskMs }) => {
  for (let i = 0; i < length; i++) await sleepTask.submit(taskMs);
  return length;
});
