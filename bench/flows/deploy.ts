/** `sluice deploy bench/flows/deploy.ts` */
import { noopFlow } from "./noop.js";

await noopFlow.deploy({ name: "noop", workPoolName: "bench-pool" });
