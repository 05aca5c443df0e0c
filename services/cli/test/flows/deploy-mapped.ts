/** `sluice deploy services/cli/test/flows/deploy-mapped.ts` */
import { fanoutFlow } from "./fanout.js";
import { mappedFlow } from "./mapped.js";

await mappedFlow.deploy({ name: "mapped" });
await fanoutFlow.deploy({ name: "fanout" });
