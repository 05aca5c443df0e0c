/** Deploys the test flows: `sluice deploy services/cli/test/flows/deploy.ts`. */
import { slowFlow } from "./slow.js";

await slowFlow.deploy({ name: "slow" });
