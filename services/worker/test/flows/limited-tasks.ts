/** Tasks the task-run worker tests queue: tagged "warehouse" (a tag limit decides how many run at once), and an untagged one. */
import { task } from "@sluice/sdk";

export const warehouseLoad = task({ name: "warehouse_load", tags: ["warehouse"] }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

export const quick = task({ name: "quick" }, async (n: number) => n);

export const throttled = task({ name: "throttled", rateLimit: { max: 2, durationMs: 1_000 } }, async (n: number) => n);

/** Limited by nothing, and slow enough that runs overlap: a `.map()` of it travels in chunk jobs. */
export const doubled = task({ name: "doubled" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return n * 2;
});

/** Limited by nothing and slow: a `.map()` of it must spread over every worker to the end. */
export const slowDoubled = task({ name: "slow_doubled" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 40));
  return n * 2;
});
