export {
  type AnySluiceDb,
  createDatabase,
  type Database,
  type DatabaseOptions,
  type Schema,
  type SluiceDb,
} from "./client.js";
export {
  deleteConcurrencyLimit,
  getConcurrencyLimit,
  getConcurrencyLimitByTag,
  getTagLimits,
  listConcurrencyLimits,
  upsertConcurrencyLimit,
} from "./concurrency-limits.js";
export { type AbandonedRuns, crashAbandonedRuns } from "./crash-recovery.js";
export { databaseNameOf, redactUrl, withDatabaseName } from "./database-url.js";
export {
  type DeploymentFields,
  type DeploymentInput,
  type DeploymentSummary,
  type DeploymentWithSchedules,
  type DeploymentWrite,
  deleteDeployment,
  getDeployment,
  getDeploymentByName,
  getDeploymentSummary,
  getDeployments,
  getVersionedDeploymentSummary,
  listScheduledDeployments,
  type ScheduleInput,
  setDeploymentPaused,
  updateDeployment,
  upsertDeployment,
  type VersionedDeploymentSummary,
} from "./deployments.js";
/** drizzle's operators, from the one copy of drizzle Sluice loads (see drizzle.ts). */
export {
  and,
  arrayContains,
  arrayOverlaps,
  asc,
  desc,
  eq,
  getTableColumns,
  gt,
  gte,
  ilike,
  inArray,
  isNull,
  lt,
  lte,
  notInArray,
  or,
  sql,
} from "./drizzle.js";
export * from "./drop-database.js";
export { type EmbeddedDatabase, type EmbeddedDb, openEmbeddedDatabase } from "./embedded.js";
export {
  type EmbeddedStore,
  embeddedDataDir,
  openEmbeddedStore,
  resetEmbeddedStore,
  STORE_LOCK_FILE,
  type StoreLockOptions,
} from "./embedded-store.js";
export { ensureDatabase } from "./ensure-database.js";
export { isDataError, pgErrorCode } from "./errors.js";
export {
  type CreatedFlowRun,
  createDeploymentFlowRun,
  type DeletedFlowRun,
  DeploymentChangedError,
  type DeploymentRunRequest,
  deleteFlowRun,
  getFlowRuns,
  type InitialState,
  insertFlowRun,
  type NewFlowRun,
  type SetStateResult,
  type StateRequest,
  setFlowRunState,
  type WithdrawnRun,
  withdrawScheduledRuns,
} from "./flow-runs-write.js";
export { deleteFlow, ensureFlow, getFlow, getFlowByName } from "./flows.js";
export { type ListLogsOptions, listLogs } from "./logs.js";
export { MIGRATIONS_FOLDER, migrateDatabase } from "./migrate.js";
export { type DbHandle, type SqlExecutor, takesCopy } from "./queryable.js";
export {
  type PreparedEvents,
  type PrepareOptions,
  prepareEvents,
  type RecordOptions,
  recordEvents,
} from "./record-events.js";
export {
  type FlowRunSummary,
  findFlowRun,
  getFlowRun,
  getFlowRunStates,
  getTaskRun,
  getTaskRunStates,
  listFlowRunSummaries,
  listFlowRuns,
  listSubflowRuns,
  listTaskRunStates,
  listTaskRuns,
} from "./runs.js";
export * as schema from "./schema.js";
export * from "./schema.js";
export {
  type AcquireLockOptions,
  acquireDirectoryLock,
  type DirectoryLock,
  type LockHolder,
  LockTimeoutError,
} from "./store-lock.js";
export { getCacheEntry, saveCacheEntryJson } from "./task-cache.js";
export {
  DEFAULT_PAYLOAD_TTL_MS,
  PostgresResultStore,
  type PostgresResultStoreOptions,
} from "./task-run-payloads.js";
export {
  countWorkPools,
  createWorkPool,
  createWorkQueue,
  DEFAULT_WORK_POOL_NAME,
  DEFAULT_WORK_POOL_TYPE,
  DEFAULT_WORK_QUEUE_NAME,
  deleteWorkPool,
  ensureWorkPool,
  ensureWorkQueue,
  getWorkPool,
  getWorkQueue,
  type ListWorkPoolsOptions,
  listWorkers,
  listWorkPools,
  listWorkQueueLimits,
  listWorkQueues,
  recordWorkerHeartbeat,
  updateWorkPool,
  updateWorkQueue,
  type WorkPoolInput,
  type WorkPoolPatch,
  type WorkQueueInput,
  type WorkQueuePatch,
} from "./work-pools.js";
