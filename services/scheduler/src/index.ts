export * from "./leader-lock.js";
export * from "./schedule-times.js";
export * from "./scheduler.js";
