/** The flow the UI's end-to-end tests start from the Deployments page: two steps and a subflow, a nap of `seconds` between. */
import { currentSignal, flow, getRunLogger, task } from "@sluice/sdk";
import { z } from "zod";

export const prepare = task({ name: "prepare" }, async (label: string) => {
  getRunLogger().info(`Preparing ${label}`);
  return label.toUpperCase();
});

/** Sleeps, or stops as soon as the run is cancelled. */
export const nap = task({ name: "nap" }, async (seconds: number) => {
  const signal = currentSignal();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, seconds * 1000);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
  getRunLogger().info(`Slept ${seconds} s`);
  return seconds;
});

export const finish = task({ name: "finish" }, async (label: string) => {
  getRunLogger().info(`Finished ${label}`);
  return `${label} done`;
});

/** A subflow: its own flow run, shown on the parent's timeline. */
export const wrapUp = flow({ name: "Wrap up" }, async ({ label }: { label: string }) => finish(label));

export const uiDemo = flow(
  {
    name: "UI Demo",
    parameters: z.object({
      seconds: z.number().min(0).default(1).describe("How long the nap task sleeps"),
      label: z.string().default("demo"),
    }),
  },
  async ({ seconds, label }) => {
    const upper = await prepare(label);
    await nap(seconds);
    return wrapUp({ label: upper });
  },
);
