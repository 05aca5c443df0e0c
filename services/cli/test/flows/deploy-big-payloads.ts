/** `sluice deploy services/cli/test/flows/deploy-big-payloads.ts` */
import { bigPayloadsFlow } from "./big-payloads.js";

await bigPayloadsFlow.deploy({ name: "big-payloads" });
