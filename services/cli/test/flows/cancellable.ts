/** Flows for the cancellation tests: one whose task stops when its signal fires, one that ignores it. */
import { currentSignal, flow, task } from "@sluice/sdk";
import { z } from "zod";

/** Sleeps `ms`, or until the run's signal aborts (then rejects with the signal's reason). */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export const nap = task({ name: "nap" }, async (ms: number) => {
  await sleepUnlessAborted(ms, currentSignal());
  return ms;
});

export const cancellableFlow = flow(
  { name: "Cancellable Flow", parameters: z.object({ ms: z.number().default(60_000) }) },
  async ({ ms }) => nap(ms),
);

/** Its task runs are queued: a worker's task-run queue runs them, not the flow's process. */
export const cancellableQueuedFlow = flow(
  { name: "Cancellable Queued Flow", parameters: z.object({ ms: z.number().default(60_000) }) },
  async ({ ms }) => await nap.map([ms, ms]),
);

/** Sleeps in the flow body itself and never looks at its signal. */
export const stubbornFlow = flow(
  { name: "Stubborn Flow", parameters: z.object({ ms: z.number().default(60_000) }) },
  async ({ ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
);
