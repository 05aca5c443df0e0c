/**
 * A worker of one work pool: consumes the pool's flow-run queue (BullMQ), loads each run's
 * entrypoint from the flows directory and runs it with the engine, at most `limit` at once.
 * It reads nothing from Postgres: the job carries the run. `stop()` drains: running flows finish
 * before it resolves, queued ones stay for other workers.
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, relative, resolve } from "node:path";
import { describeError, type EventSink, InvalidInputError, type StateName, stateTypeOf } from "@sluice/core";
import { FLOW_RUN_JOB_NAME, type FlowRunJob, flowRunQueueName } from "@sluice/queue";
import { type Engine, type Flow, loadFlow, parseEntrypoint } from "@sluice/sdk";
import type { Logger } from "@sluice/telemetry";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";

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
}

export class FlowRunWorker {
  private worker: Worker<FlowRunJob> | null = null;
  private blockingConnection: Redis | null = null;
  private readonly flows = new Map<string, Promise<Flow<unknown, unknown>>>();
  /** Flow runs finished by this worker, whatever their outcome. */
  runsFinished = 0;

  constructor(private readonly options: FlowRunWorkerOptions) {}

  async start(): Promise<void> {
    const { options } = this;
    // BullMQ never closes a connection it is given, so this worker keeps and closes its own.
    this.blockingConnection = options.connection.duplicate({ maxRetriesPerRequest: null });
    this.worker = new Worker<FlowRunJob>(flowRunQueueName(options.workPoolName), (job) => this.process(job), {
      connection: this.blockingConnection,
      prefix: options.prefix,
      concurrency: options.limit,
      autorun: false,
      // A worker that dies mid-run stops renewing its lock; the run is handed to another worker.
      lockDuration: 30_000,
      stalledInterval: 15_000,
      maxStalledCount: 2,
    });
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
    this.blockingConnection?.disconnect();
    this.blockingConnection = null;
  }

  get runningCount(): number {
    return this.worker ? ((this.worker as unknown as { running?: number }).running ?? 0) : 0;
  }

  private async process(job: Job<FlowRunJob>): Promise<void> {
    if (job.name !== FLOW_RUN_JOB_NAME) return;
    const run = job.data;
    const { logger, engine } = this.options;
    logger.info({ flowRunId: run.flowRunId, flow: run.flowName, entrypoint: run.entrypoint }, "running flow run");
    let flow: Flow<unknown, unknown>;
    try {
      flow = await this.loadEntrypoint(run);
    } catch (error) {
      failBeforeStart(engine.events, run, `Could not load the flow: ${describeError(error).message}`);
      logger.error({ flowRunId: run.flowRunId, err: error }, "could not load the flow");
      this.runsFinished++;
      return;
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
        runCount: run.runCount,
      });
    } catch (error) {
      // Recorded as the run's Failed state by the engine; the job itself is done.
      logger.info({ flowRunId: run.flowRunId, error: describeError(error).message }, "flow run failed");
    } finally {
      this.runsFinished++;
    }
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

/** A run that cannot even start (its code is missing) still ends in a visible Failed state. */
function failBeforeStart(events: EventSink, run: FlowRunJob, message: string): void {
  const at = Date.now();
  const flowRunId = run.flowRunId;
  // A no-op when the API created the run already; otherwise it makes the run visible.
  events.emit({
    kind: "flow_run_created",
    id: randomUUID(),
    timestamp: new Date(at).toISOString(),
    flowRun: {
      id: flowRunId,
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
    },
  });
  const emit = (name: StateName, offset: number, data?: unknown) =>
    events.emit({
      kind: "state",
      id: randomUUID(),
      runKind: "flow_run",
      runId: flowRunId,
      timestamp: new Date(at + offset).toISOString(),
      type: stateTypeOf(name),
      name,
      message: name === "Failed" ? message : null,
      runCount: 0,
      data,
    });
  emit("Pending", 0);
  emit("Failed", 1, { type: "LoadError", message });
}
