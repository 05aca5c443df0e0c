/**
 * The bench deployments, all in the work pool `bench-pool`, with entrypoints relative to the
 * repository (the bench cluster's workers use `--flows .`):
 *
 *   sluice deploy bench/flows/deploy.ts --flows-dir .
 */
import { etlPipeline } from "../../examples/flows/etl_pipeline.js";
import { chainInline, chainQueued } from "./chain.js";
import { noopFlow } from "./noop.js";
import { noopMap } from "./noop-map.js";

const workPoolName = "bench-pool";
await noopFlow.deploy({ name: "noop", workPoolName });
await noopMap.deploy({ name: "noop-map", workPoolName });
await chainInline.deploy({ name: "chain-inline", workPoolName });
await chainQueued.deploy({ name: "chain-queued", workPoolName });
await etlPipeline.deploy({ name: "bench-etl", workPoolName });
