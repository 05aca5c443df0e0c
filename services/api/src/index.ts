export { type ApiOptions, buildApi, DEFAULT_BODY_LIMIT } from "./app.js";
export { hasBearerKey } from "./http/auth.js";
export { statusOfCode } from "./http/errors.js";
export { FlowRunDispatcher } from "./run-queue.js";
