/**
 * Run events: the contract between the engine (which emits them through an EventSink) and the
 * recorder (which writes them to Postgres). Every event carries its own id and timestamp so a
 * replayed event is recognised and ignored, and an out-of-order one cannot move a run backwards.
 */
import type { StateName, StateType } from "./states.js";

export type RunKind = "flow_run" | "task_run";

/** A flow run came into existence (always emitted before its first state). */
export interface FlowRunCreatedEvent {
  kind: "flow_run_created";
  /** Event id (uuid). */
  id: string;
  timestamp: string;
  flowRun: {
    id: string;
    name: string;
    flowId: string;
    flowName: string;
    deploymentId: string | null;
    parentTaskRunId: string | null;
    parameters: Record<string, unknown>;
    tags: string[];
    expectedStartTime: string;
    workPoolName: string | null;
    workQueueName: string | null;
    /** The OpenTelemetry trace the run executes in (when traced and sampled): recorded on the run. */
    traceId?: string;
  };
}

/** A task run came into existence (always emitted before its first state). */
export interface TaskRunCreatedEvent {
  kind: "task_run_created";
  id: string;
  timestamp: string;
  taskRun: {
    id: string;
    name: string;
    flowRunId: string | null;
    taskKey: string;
    dynamicKey: string;
    cacheKey: string | null;
    cacheExpiration: string | null;
    tags: string[];
    /** Summary of the inputs (for display), never needed to re-run. */
    taskInputs: Record<string, unknown>;
    expectedStartTime: string;
  };
}

/** A state transition of a flow run or a task run. */
export interface StateEvent {
  kind: "state";
  /** The state's id (uuid); doubles as the event id. */
  id: string;
  runKind: RunKind;
  runId: string;
  /** When the run entered this state; the recorder applies only newer states to the run row. */
  timestamp: string;
  type: StateType;
  name: StateName;
  message: string | null;
  /** Attempt number after this transition (1 on first Running). */
  runCount: number;
  /** For SCHEDULED states: when the run is due. */
  scheduledTime?: string | null;
  /** COMPLETED: the result (JSON), FAILED/CRASHED: error details. */
  data?: unknown;
  /** Overrides the "terminal is final" rule (an explicit retry of a finished run). */
  force?: boolean;
}

export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
export const LOG_LEVEL_NUMBERS: Record<LogLevel, number> = {
  DEBUG: 10,
  INFO: 20,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
};

export interface LogEvent {
  kind: "log";
  id: string;
  timestamp: string;
  flowRunId: string | null;
  taskRunId: string | null;
  /** Logger name, e.g. "sluice.task_runs". */
  name: string;
  level: LogLevel;
  message: string;
}

/** A task result stored under a cache key, shared across processes until it expires. */
export interface CacheEntryEvent {
  kind: "cache_entry";
  id: string;
  timestamp: string;
  cacheKey: string;
  taskRunId: string;
  expiresAt: string | null;
  result: unknown;
}

/**
 * A state the API or the scheduler wrote to Postgres itself (a new deployment run, a cancel, Late).
 * Nothing for the recorder to do: it tells live views (GET /api/events) that the run changed.
 */
export interface StateWrittenEvent {
  kind: "state_written";
  id: string;
  timestamp: string;
  runKind: RunKind;
  runId: string;
  type: StateType;
  name: StateName;
}

export type RunEvent =
  | FlowRunCreatedEvent
  | TaskRunCreatedEvent
  | StateEvent
  | LogEvent
  | CacheEntryEvent
  | StateWrittenEvent;
