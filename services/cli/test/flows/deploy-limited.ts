/** Deployments with concurrency limits: `sluice deploy services/cli/test/flows/deploy-limited.ts`. */
import { slowFlow } from "./slow.js";

await slowFlow.deploy({ name: "one-at-a-time", concurrencyLimit: 1, collisionStrategy: "ENQUEUE" });
await slowFlow.deploy({ name: "no-overlap", concurrencyLimit: 1, collisionStrategy: "CANCEL_NEW" });
await slowFlow.deploy({ name: "limited-pool", workPoolName: "limited-pool" });
