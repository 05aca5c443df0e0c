/** The no-op flow the latency benchmark runs. */
import { flow } from "@sluice/sdk";

export const noopFlow = flow({ name: "Noop" }, async () => null);
