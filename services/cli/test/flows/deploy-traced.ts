/** `sluice deploy services/cli/test/flows/deploy-traced.ts` */
import { tracedFlow, tracedMapFlow } from "./traced.js";

await tracedFlow.deploy({ name: "traced" });
await tracedMapFlow.deploy({ name: "traced-map" });
