/** Flows the worker tests deploy. */
import { flow, getRunLogger, task } from "@sluice/sdk";
import { z } from "zod";

const shout = task({ name: "shout" }, async (text: string) => text.toUpperCase());

export const hello = flow(
  { name: "Hello", parameters: z.object({ who: z.string().default("world"), sleepMs: z.number().default(0) }) },
  async ({ who, sleepMs }) => {
    getRunLogger().info(`hello ${who}`);
    if (sleepMs > 0) await new Promise((resolve) => setTimeout(resolve, sleepMs));
    return shout(`hello ${who}`);
  },
);
