/**
 * A worker of one work pool: consumes the pool's flow-run queue (BullMQ), loads each run's
 * entrypoint from the flows directory and runs it with the engine, at most `limit` at once.
 * It reads nothing from Postgres: the job carries the run. `stop()` drains: running flows finish
 * before it resolves, queued ones stay for other workers.
 *
 * Cancellation: the worker listens on the cancellation channel (one subscriber connection) and
 * aborts the signal of a run it holds; a body that ignores it is abandoned after `cancelGraceMs`
 * and the run ends Cancelled. A run whose cancellation was announced before the worker took it
 * (the marker) is recorded Cancelled without running.
 *
 * Crash recovery: a worker that dies stops renewing its job lock; another worker's stalled-job
 * check hands the job back to the queue within about `lockDurationMs + stalledIntervalMs`
 * (45 s by default; `SLUICE_WORKER_LOCK_SECONDS` sets the lock). A run is marked with its holder
 * while it runs (run-holders.ts), so the worker that takes the redelivered job knows the run
 * crashed: it records it Crashed and, if the flow has retries left, runs it again as a retry
 * (Crashed → AwaitingRetry → Retrying); otherwise it stays Crashed.
 *
 * Work queue and deployment concurrency limits: a run takes a slot of each limit it is under before
 * it starts (see RunSlots); without one it is cancelled (a deployment's CANCEL_NEW) or waits
 * AwaitingConcurrencySlot with its job moved back to the delayed set, holding no worker slot (ENQUEUE).
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, relative, resolve } from "node:path";
import {
  CancelledError,
  describeError,
  type EventSink,
  InvalidInputError,
  type StateName,
  startOrStop,
  stateTypeOf,
} from "@sluice/core";
import {
  bullmqConnection,
  type ChannelSubscription,
  FLOW_RUN_JOB_NAME,
  FlowRunCancellation,
  type FlowRunJob,
  flowRunQueueName,
  type RedisKeys,
  RedisLeaseStore,
  redisKeys,
  WorkQueueLimits,
} from "@sluice/queue";
import { type Engine, type Flow, loadFlow, parseEntrypoint } from "@sluice/sdk";
import { consumeJob, currentTraceId, type Logger, recordRunFinished } from "@sluice/telemetry";
import { DelayedError, type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { consumedJob } from "./job-telemetry.js";
import { RunHolders } from "./run-holders.js";
import { DEFAULT_RUN_LEASE_TTL_MS, RunSlots } from "./run-slots.js";

export interface FlowRunWorkerOptions {
  /** BullMQ needs its own blocking connection; this one is duplicated for it. */
  connection: Redis;
  prefix: string;
  workPoolName: string;
  /** The worker's name in the pool (heartbeats). */
  name: string;
  /** Most flow runs at once in this process. */
  limit: number;
  /** Where entrypoints ("file.ts:export") are resolved. */
  flowsDir: string;
  engine: Engine;
  logger: Logger;
  /** How long a cancelled flow body may take to stop before it is abandoned (default 10 s). */
  cancelGraceMs?: number;
  /**
   * The job lock's duration (renewed at half of it while the run goes on) and how often the
   * stalled-job check runs: a dead worker's run is handed to another worker within about their
   * sum (default 10 s + 5 s). An event loop blocked longer than the lock makes a false crash.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export const DEFAULT_CANCEL_GRACE_MS = 10_000;
/** BullMQ's default: long enough that a flow blocking the event loop for seconds keeps its run. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
export const DEFAULT_STALLED_INTERVAL_MS = 15_000;
export class FlowRunWorker {
  private worker: Worker<FlowRunJob> | null = null;
  private blockingConnection: Redis | null = null;
  private readonly flows = new Map<string, Promise<Flow<unknown, unknown>>>();
  /** The cancellation controllers of the runs this worker holds, by run id. */
  private readonly running = new Map<string, AbortController>();
  private readonly keys: RedisKeys;
  private readonly cancellation: FlowRunCancellation;
  private readonly holders: RunHolders;
  private cancelSubscription: ChannelSubscription | null = null;
  /** Work queue and deployment concurrency slots (releasing one wakes the run waiting longest for it). */
  private readonly slotLeases: RedisLeaseStore;
  private readonly workQueueLimits: WorkQueueLimits;
  private readonly slots: RunSlots;
  /** Flow runs finished by this worker, whatever their outcome (not counting runs put back to wait for a slot). */
  runsFinished = 0;

  constructor(private readonly options: FlowRunWorkerOptions) {
    this.keys = redisKeys(options.prefix);
    this.cancellation = new FlowRunCancellation(options.connection, this.keys);
    this.holders = new RunHolders(options.connection, this.keys, options.name);
    this.slotLeases = new RedisLeaseStore(options.connection, this.keys, (error, limit) =>
      options.logger.warn({ err: error, limit }, "could not wake a run waiting for a concurrency slot"),
    );
    this.workQueueLimits = new WorkQueueLimits(options.connection, this.keys, options.workPoolName);
    this.slots = new RunSlots(
      this.slotLeases,
      options.engine.leaseTtlMs ?? DEFAULT_RUN_LEASE_TTL_MS,
      this.workQueueLimits,
    );
  }

  /** Starts taking runs; what it started is stopped again when starting fails. */
  start(): Promise<void> {
    return startOrStop(
      () => this.startTaking(),
      () => this.stop(),
    );
  }

  private async startTaking(): Promise<void> {
    const { options } = this;
    // BullMQ never closes a connection it is given, so this worker keeps and closes its own.
    this.cancelSubscription = await this.cancellation.subscribe((flowRunId) => this.cancel(flowRunId));
    await this.workQueueLimits.start();
    this.blockingConnection = bullmqConnection(options.connection, { maxRetriesPerRequest: null });
    this.worker = new Worker<FlowRunJob>(
      flowRunQueueName(options.workPoolName),
      (job, token) => consumeJob(consumedJob(job, "flow-runs", options.workPoolName), () => this.process(job, token)),
      {
        connection: this.blockingConnection,
        prefix: options.prefix,
        concurrency: options.limit,
        autorun: false,
        // A worker that dies mid-run stops renewing its lock; the run is handed to another worker,
        // which records the crash and decides on a retry (the flow's retries bound them, not BullMQ).
        lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
        stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
        maxStalledCount: 1_000_000,
      },
    );
    this.worker.on("error", (error) => options.logger.error({ err: error }, "flow-run queue error"));
    void this.worker.run();
    await this.worker.waitUntilReady();
    options.logger.info(
      { pool: options.workPoolName, worker: options.name, limit: options.limit, flowsDir: options.flowsDir },
      "worker started",
    );
  }

  /** Stops taking runs and waits for the running ones to finish. */
  async stop(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
    this.cancelSubscription?.close();
    this.cancelSubscription = null;
    this.blockingConnection?.disconnect();
    this.blockingConnection = null;
    await this.slotLeases.close();
    await this.workQueueLimits.close();
  }

  /** Flow runs this worker is running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /** Aborts a run this worker holds (a no-op for runs held elsewhere). */
  private cancel(flowRunId: string): void {
    const controller = this.running.get(flowRunId);
    if (!controller || controller.signal.aborted) return;
    this.options.logger.info({ flowRunId }, "cancelling flow run");
    controller.abort(new CancelledError("Flow run was cancelled"));
  }

  private async process(job: Job<FlowRunJob>, token?: string): Promise<void> {
    if (job.name !== FLOW_RUN_JOB_NAME) return;
    const run = job.data;
    const controller = new AbortController();
    this.running.set(run.flowRunId, controller);
    let outcome: "done" | "waiting" = "done";
    try {
      outcome = await this.processRun(job, token, controller.signal);
    } finally {
      this.running.delete(run.flowRunId);
      if (outcome === "done") this.runsFinished++;
    }
    // The job was moved back to the delayed set to wait for a concurrency slot: BullMQ leaves it there.
    if (outcome === "waiting") throw new DelayedError();
  }

  private async processRun(
    job: Job<FlowRunJob>,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<"done" | "waiting"> {
    const run = job.data;
    const { logger, engine, name } = this.options;
    // One round trip before the run starts: cancelled beforehand? crashed before? now held here.
    const taken = await this.holders.take(run.flowRunId);
    // Cancelled before this worker listened for it: the announcement is gone, the marker is not.
    if (taken.cancelled) {
      recordBeforeStart(engine.events, run, "Cancelled", "Cancelled before a worker started it", run.runCount ?? 0);
      await this.holders.release(run.flowRunId);
      logger.info({ flowRunId: run.flowRunId }, "flow run cancelled before it started");
      return "done";
    }
    const { crashedOn, crashes } = taken;
    const runCount = (run.runCount ?? 0) + crashes;
    const crashMessage = crashedOn
      ? `Worker '${crashedOn}' stopped while running the flow run (crash detected by '${name}')`
      : null;
    logger.info({ flowRunId: run.flowRunId, flow: run.flowName, entrypoint: run.entrypoint }, "running flow run");
    let flow: Flow<unknown, unknown>;
    try {
      flow = await this.loadEntrypoint(run);
    } catch (error) {
      if (crashMessage) recordBeforeStart(engine.events, run, "Crashed", crashMessage, runCount);
      failBeforeStart(engine.events, run, `Could not load the flow: ${describeError(error).message}`);
      await this.holders.release(run.flowRunId);
      if (crashedOn) await this.slots.abandon(run);
      logger.error({ flowRunId: run.flowRunId, err: error }, "could not load the flow");
      return "done";
    }
    if (crashMessage && crashes > (flow.options.retries ?? 0)) {
      recordBeforeStart(engine.events, run, "Crashed", `${crashMessage}; no retries left`, runCount);
      await this.holders.release(run.flowRunId);
      await this.slots.abandon(run);
      logger.warn({ flowRunId: run.flowRunId, crashedOn }, "flow run crashed; no retries left");
      return "done";
    }
    const slot = await this.slots.take(run);
    if (slot?.kind === "busy") {
      const { description, collisionStrategy } = slot.limit;
      if (collisionStrategy === "CANCEL_NEW") {
        const message = `${description} reached: run cancelled (collision strategy CANCEL_NEW)`;
        recordBeforeStart(engine.events, run, "Cancelled", message, runCount);
        await this.holders.release(run.flowRunId);
        logger.info({ flowRunId: run.flowRunId, deploymentId: run.deploymentId }, message);
        return "done";
      }
      // Not running here after all: the next worker to take it must find the note as it was.
      await this.holders.giveBack(run.flowRunId, taken.previous);
      if (!run.awaitingSlot) {
        const message = `${description} reached: waiting for a slot`;
        recordBeforeStart(engine.events, run, "AwaitingConcurrencySlot", message, runCount);
        await job.updateData({ ...run, awaitingSlot: true });
      }
      await this.slots.park(job, token, slot.limit, slot.retryInMs);
      return "waiting";
    }
    try {
      await flow.run(run.parameters, {
        id: run.flowRunId,
        name: run.flowRunName,
        deploymentId: run.deploymentId,
        tags: run.tags,
        expectedStartTime: run.scheduledTime,
        workPoolName: run.workPoolName,
        workQueueName: run.workQueueName,
        runCount,
        signal,
        cancelGraceMs: this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
        recoveringCrash: crashMessage ? { message: crashMessage, retriesUsed: crashes } : undefined,
      });
    } catch (error) {
      // Recorded as the run's Failed (or Cancelled) state by the engine; the job itself is done.
      logger.info({ flowRunId: run.flowRunId, error: describeError(error).message }, "flow run did not complete");
    } finally {
      await this.holders.release(run.flowRunId).catch((error: unknown) => {
        logger.warn({ flowRunId: run.flowRunId, err: error }, "could not remove the run's holder marker");
      });
      // A slot not released here frees itself when its lease expires.
      await slot?.release().catch((error: unknown) => {
        logger.warn({ flowRunId: run.flowRunId, err: error }, "could not release the run's concurrency slots");
      });
    }
    return "done";
  }

  private loadEntrypoint(run: FlowRunJob): Promise<Flow<unknown, unknown>> {
    if (!run.entrypoint) throw new InvalidInputError(`Flow run ${run.flowRunId} has no entrypoint`);
    const { file } = parseEntrypoint(run.entrypoint);
    const path = resolve(this.options.flowsDir, file);
    const inside = relative(this.options.flowsDir, path);
    if (inside.startsWith("..") || isAbsolute(inside)) {
      throw new InvalidInputError(
        `Entrypoint ${run.entrypoint} is outside the flows directory ${this.options.flowsDir}`,
      );
    }
    let flow = this.flows.get(run.entrypoint);
    if (!flow) {
      flow = loadFlow(run.entrypoint, this.options.flowsDir);
      this.flows.set(run.entrypoint, flow);
      flow.catch(() => this.flows.delete(run.entrypoint as string));
    }
    return flow;
  }
}

/** A state recorded by the worker without running the flow (cancelled or crashed beforehand, or waiting for a slot). */
function recordBeforeStart(
  events: EventSink,
  run: FlowRunJob,
  name: "Cancelled" | "Crashed" | "AwaitingConcurrencySlot",
  message: string,
  runCount: number,
): void {
  const at = Date.now();
  announceRun(events, run, at);
  events.emit({
    kind: "state",
    id: randomUUID(),
    runKind: "flow_run",
    runId: run.flowRunId,
    timestamp: new Date(at).toISOString(),
    type: stateTypeOf(name),
    name,
    message,
    runCount,
    data: name === "Crashed" ? { type: "Crashed", message } : undefined,
  });
  if (name !== "AwaitingConcurrencySlot") recordRunFinished("flow_run", run.flowName, name, undefined);
}

/** A run that cannot even start (its code is missing) still ends in a visible Failed state. */
function failBeforeStart(events: EventSink, run: FlowRunJob, message: string): void {
  const at = Date.now();
  announceRun(events, run, at);
  const emit = (name: StateName, offset: number, data?: unknown) =>
    events.emit({
      kind: "state",
      id: randomUUID(),
      runKind: "flow_run",
      runId: run.flowRunId,
      timestamp: new Date(at + offset).toISOString(),
      type: stateTypeOf(name),
      name,
      message: name === "Failed" ? message : null,
      runCount: 0,
      data,
    });
  emit("Pending", 0);
  emit("Failed", 1, { type: "LoadError", message });
  recordRunFinished("flow_run", run.flowName, "Failed", undefined);
}

/** A no-op when the API created the run already; otherwise it makes the run visible. */
function announceRun(events: EventSink, run: FlowRunJob, at: number): void {
  events.emit({
    kind: "flow_run_created",
    id: randomUUID(),
    timestamp: new Date(at).toISOString(),
    flowRun: {
      id: run.flowRunId,
      name: run.flowRunName,
      flowId: randomUUID(),
      flowName: run.flowName,
      deploymentId: run.deploymentId,
      parentTaskRunId: null,
      parameters: run.parameters,
      tags: run.tags,
      expectedStartTime: run.scheduledTime,
      workPoolName: run.workPoolName,
      workQueueName: run.workQueueName,
      traceId: currentTraceId(),
    },
  });
}
