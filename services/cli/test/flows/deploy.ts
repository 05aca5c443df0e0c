/** Deploys the test flows: `sluice deploy services/cli/test/flows/deploy.ts`. */
import { cancellableFlow, cancellableQueuedFlow, stubbornFlow } from "./cancellable.js";
import { retriedSlowFlow } from "./crash-retry.js";
import { slowFlow } from "./slow.js";

await slowFlow.deploy({ name: "slow" });
await cancellableFlow.deploy({ name: "cancellable" });
await stubbornFlow.deploy({ name: "stubborn" });
await cancellableQueuedFlow.deploy({ name: "cancellable-queued" });
await retriedSlowFlow.deploy({ name: "retried" });
