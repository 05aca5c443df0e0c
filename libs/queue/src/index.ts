export * from "./event-stream.js";
export * from "./flow-run-job.js";
export * from "./flow-run-queue.js";
export * from "./keys.js";
export * from "./redis-cache-store.js";
export * from "./redis-event-sink.js";
export * from "./redis-lease-store.js";
