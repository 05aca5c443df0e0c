export * from "./context-slot.js";
export * from "./logger.js";
export * from "./metrics.js";
export * from "./run-metrics.js";
export * from "./start.js";
export * from "./tracing.js";
