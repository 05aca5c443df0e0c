export * from "./cluster-engine.js";
export * from "./flow-run-worker.js";
export * from "./heartbeat.js";
