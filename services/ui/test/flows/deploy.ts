/** Deploys the UI tests' flow to its own pool: `sluice deploy services/ui/test/flows/deploy.ts`. */
import { uiDemo } from "./demo.js";

await uiDemo.deploy({ name: "ui-demo", workPoolName: "ui-test-pool", tags: ["ui"] });
