/** W3's flow: does nothing (the latency is all orchestration). */
import { flow } from "@sluice/sdk";

export const noopFlow = flow({ name: "Noop" }, async () => null);
