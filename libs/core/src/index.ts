export * from "./duration.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./hash.js";
export * from "./ports.js";
export * from "./retry.js";
export * from "./states.js";
export * from "./transitions.js";
