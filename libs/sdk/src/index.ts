export { exponentialBackoff, parseDuration, type StateName, type StateType } from "@sluice/core";
export type { RetryOptions } from "./attempts.js";
export {
  DEFAULT_LEASE_TTL_MS,
  rateLimitKey,
  type SlotAcquirer,
  type SlotRequest,
  slotLimitsOf,
} from "./concurrency-slots.js";
export { currentSignal, getRunContext, type RunContext, useDatabase } from "./context.js";
export {
  configureDeployTarget,
  cron,
  DEFAULT_WORK_POOL,
  type DeploymentSpec,
  type DeployOptions,
  type DeployTarget,
  interval,
  type ScheduleSpec,
} from "./deploy.js";
export { type CancellationWatch, configureEngine, currentEngine, type Engine } from "./engine.js";
export { type ExistingFlowRun, type Flow, type FlowOptions, flow, isFlow } from "./flow.js";
export { MappedFutures, TaskRunFuture, waitFor } from "./futures.js";
export { InProcessTaskDispatcher, MemoryCacheStore, MemoryLeaseStore } from "./in-process.js";
export { exportNameOf, loadFlow, parseEntrypoint, parseParams } from "./load-flow.js";
export { getRunLogger } from "./logger.js";
export { loadTask, runTaskRunRequest } from "./remote-task-run.js";
export type { RunLogger } from "./run-logger.js";
export {
  isTask,
  type QueuedRunOptions,
  type Task,
  type TaskCacheContext,
  type TaskOptions,
  task,
  taskInputHash,
  unmapped,
} from "./task.js";
export { importUserModule } from "./user-modules.js";
