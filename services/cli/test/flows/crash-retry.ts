/** A slow flow with one retry, for the test that kills its worker mid-run. */
import { flow, getRunLogger } from "@sluice/sdk";
import { z } from "zod";

export const retriedSlowFlow = flow(
  { name: "Retried Slow Flow", retries: 1, parameters: z.object({ ms: z.number().default(4000) }) },
  async ({ ms }) => {
    getRunLogger().info(`sleeping ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
);
