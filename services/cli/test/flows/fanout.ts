/** A flow fanning out slow task runs, most of which wait in the task queue: cancelling it must stop them all. */
import { currentSignal, flow, task } from "@sluice/sdk";

export const slowChunk = task({ name: "slow_chunk" }, async (n: number) => {
  const signal = currentSignal();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 2000);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });
  return n;
});

export const fanoutFlow = flow({ name: "Fanout Flow" }, async () =>
  slowChunk.map(Array.from({ length: 100 }, (_, i) => i)),
);
