/**
 * TaskDispatcher of flows running on a worker: submitted task runs go on the pool's task queue,
 * so every worker of the pool shares them. A task the workers cannot load (not under the flows
 * directory, or outside a flow run) runs in this process instead.
 */
import { isAbsolute, relative } from "node:path";
import type { TaskDispatcher, TaskRunRequest } from "@sluice/core";
import { TASK_RUN_JOB_NAME, type TaskRunJob, taskRunQueueName } from "@sluice/queue";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";

export interface QueueTaskDispatcherOptions {
  connection: Redis;
  prefix: string;
  workPoolName: string;
  flowsDir: string;
  /** Runs what cannot be queued. */
  local: TaskDispatcher;
}

export class QueueTaskDispatcher implements TaskDispatcher {
  private readonly queue: Queue<TaskRunJob>;
  private events: QueueEvents | null = null;
  private eventsConnection: Redis | null = null;
  private eventsReady: Promise<unknown> | null = null;

  constructor(private readonly options: QueueTaskDispatcherOptions) {
    this.queue = new Queue<TaskRunJob>(taskRunQueueName(options.workPoolName), {
      connection: options.connection,
      prefix: options.prefix,
    });
    // One listener per task run awaiting its job: thousands during a large .map().
    this.queue.setMaxListeners(0);
  }

  async dispatch<T>(request: TaskRunRequest, runHere: () => Promise<T>): Promise<T> {
    const module = this.moduleOf(request);
    if (module === null) return this.options.local.dispatch(request, runHere);
    const events = request.detached ? null : await this.queueEvents();
    const job = await this.queue.add(
      TASK_RUN_JOB_NAME,
      { ...request, module },
      { jobId: request.taskRunId, attempts: 1, removeOnComplete: { age: 600 }, removeOnFail: { age: 24 * 3600 } },
    );
    if (!events) return undefined as T; // .delay(): handed over, not awaited
    return (await job.waitUntilFinished(events)) as T;
  }

  /** The task's module relative to the flows directory, or null when workers could not load it. */
  private moduleOf(request: TaskRunRequest): string | null {
    if (!request.definedIn || !request.flowRun) return null;
    const module = relative(this.options.flowsDir, request.definedIn);
    return module.startsWith("..") || isAbsolute(module) ? null : module;
  }

  private queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      // Queue events are read with blocking XREADs: a connection of its own, closed by close().
      this.eventsConnection = this.options.connection.duplicate({ maxRetriesPerRequest: null });
      this.events = new QueueEvents(taskRunQueueName(this.options.workPoolName), {
        connection: this.eventsConnection,
        prefix: this.options.prefix,
      });
      this.events.setMaxListeners(0);
      this.eventsReady = this.events.waitUntilReady();
    }
    const events = this.events;
    return (this.eventsReady as Promise<unknown>).then(() => events);
  }

  drain(): Promise<void> {
    return this.options.local.drain?.() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.events?.close();
    this.eventsConnection?.disconnect();
    await this.queue.close();
  }
}
