/** `flow()`: a function whose calls are recorded as flow runs (subflows when called inside a run). */
import { setMaxListeners } from "node:events";
import {
  CancelledError,
  type FieldIssue,
  generateRunName,
  newRowId,
  newRunId,
  ParameterValidationError,
} from "@sluice/core";
import { currentTraceId } from "@sluice/telemetry";
import type { z } from "zod";
import { type RetryOptions, runAttempts } from "./attempts.js";
import { callerFile } from "./caller-file.js";
import { currentRunContext, type RunContext, runContextStorage } from "./context.js";
import { type DeployOptions, deployFlow } from "./deploy.js";
import { currentEngine } from "./engine.js";

import { installPrintCapture } from "./print-capture.js";
import { createRunLogger } from "./run-logger.js";
import { traceFlowRun } from "./run-spans.js";
import { RunStates } from "./run-states.js";
import { createTaskRunRecord } from "./task-run-record.js";

export interface FlowOptions<Schema extends z.ZodType | undefined> extends RetryOptions {
  name: string;
  description?: string;
  /** zod schema of the parameters object: validated (with defaults applied) before the run starts. */
  parameters?: Schema;
  /** Capture console.log/console.info in this flow and its tasks as run logs. */
  logPrints?: boolean;
  tags?: string[];
  /** Name of the flow run (default: a generated "adjective-animal"). */
  flowRunName?: string | ((parameters: Record<string, unknown>) => string);
  version?: string;
}

type FlowInput<Schema, Fallback> = Schema extends z.ZodType ? z.input<Schema> : Fallback;
type FlowParams<Schema, Fallback> = Schema extends z.ZodType ? z.output<Schema> : Fallback;

export interface Flow<Input, Result> {
  (parameters?: Input): Promise<Result>;
  readonly kind: "flow";
  readonly flowName: string;
  readonly options: FlowOptions<z.ZodType | undefined>;
  /** Validates and fills in defaults; throws ParameterValidationError. */
  validateParameters(parameters: unknown): Record<string, unknown>;
  /** Runs the flow as an already created flow run (a deployment's run, picked up by a worker). */
  run(parameters: unknown, existing: ExistingFlowRun): Promise<Result>;
  /** The file that defined the flow (for deployment entrypoints). */
  readonly definedIn: string | null;
  /** Registers a deployment of this flow (run the script with `npx sluice deploy FILE`). */
  deploy(options: DeployOptions): Promise<{ id: string }>;
}

/** A flow run created elsewhere (by the API or the scheduler) that this process is to execute. */
export interface ExistingFlowRun {
  id: string;
  name: string;
  deploymentId?: string | null;
  tags?: string[];
  expectedStartTime?: string;
  workPoolName?: string | null;
  workQueueName?: string | null;
  /** Attempts the run already had: a retried run goes on counting from there. */
  runCount?: number;
  /** Aborting it cancels the run (a worker hearing that the run is being cancelled). */
  signal?: AbortSignal;
  /** Once `signal` aborts, how long the flow body may take to stop before it is abandoned (default 0). */
  cancelGraceMs?: number;
  /**
   * The run was started before by a process that died: it is recorded Crashed (with `message`),
   * then run again as a retry, `retriesUsed` of its retries being spent already.
   */
  recoveringCrash?: { message: string; retriesUsed: number };
}

export function flow<
  Schema extends z.ZodType | undefined = undefined,
  Params extends FlowParams<Schema, Record<string, unknown>> = FlowParams<Schema, Record<string, unknown>>,
  Result = unknown,
>(
  options: FlowOptions<Schema>,
  fn: (parameters: Params) => Promise<Result> | Result,
): Flow<FlowInput<Schema, Params>, Result> {
  const validateParameters = (parameters: unknown): Record<string, unknown> => {
    const input = parameters ?? {};
    if (!options.parameters) return input as Record<string, unknown>;
    const parsed = options.parameters.safeParse(input);
    if (!parsed.success) {
      const issues: FieldIssue[] = parsed.error.issues.map((issue) => ({
        loc: ["parameters", ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
        msg: issue.message,
        type: issue.code,
      }));
      throw new ParameterValidationError(options.name, issues);
    }
    return parsed.data as Record<string, unknown>;
  };
  const execute = (parameters: unknown, existing?: ExistingFlowRun): Promise<Result> =>
    traceFlowRun(options.name, existing, () => executeInSpan(parameters, existing));
  const executeInSpan = async (parameters: unknown, existing?: ExistingFlowRun): Promise<Result> => {
    const engine = currentEngine();
    installPrintCapture();
    const validParameters = validateParameters(parameters);
    const parent = currentRunContext();
    const flowRunId = existing?.id ?? newRunId();
    const flowRunName =
      existing?.name ??
      (typeof options.flowRunName === "function"
        ? options.flowRunName(validParameters)
        : (options.flowRunName ?? generateRunName()));
    const now = new Date().toISOString();
    // A subflow is represented in its parent by a task run, which links the two (Prefect's model).
    const parentTask = parent?.flowRun
      ? createTaskRunRecord(parent, { taskKey: `subflow:${options.name}`, name: options.name, inputs: validParameters })
      : null;
    parentTask?.states.set({ name: "Running" });
    // For a run created by the API this is a no-op replay; for a local call it creates the run.
    engine.events.emit({
      kind: "flow_run_created",
      id: newRowId(),
      timestamp: now,
      flowRun: {
        id: flowRunId,
        name: flowRunName,
        flowId: newRowId(),
        flowName: options.name,
        deploymentId: existing?.deploymentId ?? null,
        parentTaskRunId: parentTask?.id ?? null,
        parameters: validParameters,
        tags: existing?.tags ?? options.tags ?? [],
        expectedStartTime: existing?.expectedStartTime ?? now,
        workPoolName: existing?.workPoolName ?? null,
        workQueueName: existing?.workQueueName ?? null,
        traceId: currentTraceId(),
      },
    });
    const states = new RunStates(engine.events, "flow_run", flowRunId, options.name);
    states.runCount = existing?.runCount ?? 0;
    const crash = existing?.recoveringCrash;
    if (crash) {
      // Crashed is terminal: the retry that follows it is a forced transition.
      states.set({ name: "Crashed", message: crash.message, data: { type: "Crashed", message: crash.message } });
      states.set({ name: "AwaitingRetry", message: "Retrying after the crash", scheduledTime: now, force: true });
    } else {
      states.set({ name: "Pending" });
    }
    const logger = createRunLogger({
      engine,
      flowRunId,
      taskRunId: null,
      label: `Flow run '${flowRunName}'`,
      name: "sluice.flow_runs",
    });
    logger.info(`Beginning flow run '${flowRunName}' for flow '${options.name}'`);
    const cancellation = new AbortController();
    // Every task run of the flow listens to it: hundreds of listeners are expected, not a leak.
    setMaxListeners(0, cancellation.signal);
    const watch = parent || existing?.signal ? undefined : engine.watchCancellation?.(flowRunId);
    const parentSignals = [parent?.signal, existing?.signal, watch?.signal].filter((signal) => signal !== undefined);
    const onParentAbort = (event: Event) =>
      cancellation.abort((event.target as AbortSignal | null)?.reason ?? new CancelledError());
    for (const signal of parentSignals) {
      if (signal.aborted) cancellation.abort(signal.reason ?? new CancelledError());
      else signal.addEventListener("abort", onParentAbort, { once: true });
    }
    try {
      const result = await runAttempts({
        what: `Flow run '${flowRunName}'`,
        options,
        states,
        logger,
        parentSignal: cancellation.signal,
        firstRetryNumber: crash?.retriesUsed,
        cancelGraceMs: existing?.cancelGraceMs ?? watch?.graceMs,
        body: (signal) => {
          const context: RunContext = {
            engine,
            flowRun: { id: flowRunId, name: flowRunName, flowName: options.name, parameters: validParameters },
            taskRun: null,
            logger,
            signal,
            logPrints: options.logPrints ?? parent?.logPrints ?? false,
            taskCounters: new Map(),
          };
          return runContextStorage.run(context, async () => fn(validParameters as Params));
        },
      });
      parentTask?.states.set({ name: "Completed" });
      return result;
    } catch (error) {
      parentTask?.states.set({ name: "Failed", message: `Subflow '${options.name}' failed` });
      throw error;
    } finally {
      for (const signal of parentSignals) signal.removeEventListener("abort", onParentAbort);
      watch?.stop();
    }
  };
  const call = (parameters?: unknown) => execute(parameters);
  const self = Object.assign(call, {
    kind: "flow" as const,
    definedIn: callerFile(),
    run: execute,
    deploy: (deployOptions: DeployOptions) => deployFlow(self as Flow<unknown, unknown>, deployOptions),
    flowName: options.name,
    options: options as FlowOptions<z.ZodType | undefined>,
    validateParameters,
  });
  return self as Flow<FlowInput<Schema, Params>, Result>;
}

export function isFlow(value: unknown): value is Flow<unknown, unknown> {
  return typeof value === "function" && (value as { kind?: unknown }).kind === "flow";
}
