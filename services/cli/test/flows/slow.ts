/** A flow that takes its time, for tests that stop a worker mid-run. */
import { flow, getRunLogger } from "@sluice/sdk";
import { z } from "zod";

export const slowFlow = flow(
  { name: "Slow Flow", parameters: z.object({ ms: z.number().default(1500) }) },
  async ({ ms }) => {
    getRunLogger().info(`sleeping ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
);
