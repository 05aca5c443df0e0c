export * from "./cluster-engine.js";
export * from "./flow-run-worker.js";
export * from "./heartbeat.js";
export * from "./queue-task-dispatcher.js";
export * from "./task-run-worker.js";
export * from "./worker-metrics.js";
