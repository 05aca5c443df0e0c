/** `sluice deploy bench/flows/deploy.ts` */
import { noopFlow } from "./noop.js";
import { noopMap } from "./noop-map.js";

await noopFlow.deploy({ name: "noop", workPoolName: "bench-pool" });
await noopMap.deploy({ name: "noop-map", workPoolName: "bench-pool" });
