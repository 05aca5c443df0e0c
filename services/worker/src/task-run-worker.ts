/**
 * Consumes a pool's task queue: each job is a task run submitted by a flow on some worker; it runs
 * here with the engine (same states, retries, caching, limits) and its result is the job's return
 * value, which wakes the submitter.
 */

import { CancelledError } from "@sluice/core";
import { FlowRunCancellation, redisKeys, type TaskRunJob, taskRunQueueName } from "@sluice/queue";
import { type Engine, loadTask, runTaskRunRequest, type Task } from "@sluice/sdk";
import type { Logger } from "@sluice/telemetry";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";

export interface TaskRunWorkerOptions {
  connection: Redis;
  prefix: string;
  workPoolName: string;
  flowsDir: string;
  /** Most task runs at once in this process. */
  limit: number;
  engine: Engine;
  logger: Logger;
}

export class TaskRunWorker {
  private worker: Worker<TaskRunJob> | null = null;
  private blockingConnection: Redis | null = null;
  private readonly tasks = new Map<string, Promise<Task<unknown[], unknown>>>();
  private cancellation: FlowRunCancellation | null = null;
  private cancelSubscription: { close(): Promise<void> } | null = null;
  /** Abort controllers of the running task runs, by their flow run id (cancelling the flow aborts them). */
  private readonly running = new Map<string, Set<AbortController>>();
  /** Task runs this worker ran, whatever their outcome. */
  taskRunsFinished = 0;

  constructor(private readonly options: TaskRunWorkerOptions) {}

  async start(): Promise<void> {
    const { options } = this;
    this.cancellation = new FlowRunCancellation(options.connection, redisKeys(options.prefix));
    this.cancelSubscription = await this.cancellation.subscribe((flowRunId) => {
      for (const controller of this.running.get(flowRunId) ?? [])
        controller.abort(new CancelledError("Flow run cancelled"));
    });
    // BullMQ never closes a connection it is given, so this worker keeps and closes its own.
    this.blockingConnection = options.connection.duplicate({ maxRetriesPerRequest: null });
    this.worker = new Worker<TaskRunJob>(taskRunQueueName(options.workPoolName), (job) => this.process(job), {
      connection: this.blockingConnection,
      prefix: options.prefix,
      concurrency: options.limit,
      autorun: false,
      // As for flow runs: a task run held by a worker that died is handed to another within ~15 s.
      lockDuration: 10_000,
      stalledInterval: 5_000,
      maxStalledCount: 1_000_000,
    });
    this.worker.on("error", (error) => options.logger.error({ err: error }, "task-run queue error"));
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
    this.blockingConnection?.disconnect();
    this.blockingConnection = null;
    await this.cancelSubscription?.close();
    this.cancelSubscription = null;
  }

  private async process(job: Job<TaskRunJob>): Promise<unknown> {
    const request = job.data;
    const flowRunId = request.flowRun?.id;
    const controller = new AbortController();
    // A task run of a cancelled flow run is recorded Cancelled, never started.
    if (flowRunId && (await this.cancellation?.isCancelled(flowRunId)))
      controller.abort(new CancelledError("Flow run cancelled"));
    const siblings = flowRunId ? (this.running.get(flowRunId) ?? new Set()) : null;
    if (flowRunId && siblings) this.running.set(flowRunId, siblings.add(controller));
    try {
      const task = await this.load(request.module, request.taskName);
      const result = await runTaskRunRequest(this.options.engine, task, request, controller.signal);
      return result === undefined ? null : result;
    } finally {
      siblings?.delete(controller);
      if (flowRunId && siblings?.size === 0) this.running.delete(flowRunId);
      this.taskRunsFinished++;
    }
  }

  private load(module: string, taskName: string): Promise<Task<unknown[], unknown>> {
    const key = `${module}:${taskName}`;
    let task = this.tasks.get(key);
    if (!task) {
      task = loadTask(this.options.flowsDir, module, taskName);
      this.tasks.set(key, task);
      task.catch(() => this.tasks.delete(key));
    }
    return task;
  }
}
