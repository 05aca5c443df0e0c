/**
 * TaskDispatcher of flows running on a worker: submitted task runs go on the pool's task queue,
 * so every worker of the pool shares them; each job names this process's reply stream, where the
 * worker that ran it sends the result. A task the workers cannot load (not under the flows
 * directory, or outside a flow run) runs in this process instead.
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, relative } from "node:path";
import { Semaphore, type TaskDispatcher, type TaskRunRequest } from "@sluice/core";
import {
  redisKeys,
  TASK_RUN_JOB_NAME,
  type TaskRunJob,
  TaskRunPayloads,
  TaskRunReplyReader,
  taskRunQueueName,
} from "@sluice/queue";
import { withProducerSpan } from "@sluice/telemetry";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";

export interface QueueTaskDispatcherOptions {
  connection: Redis;
  prefix: string;
  workPoolName: string;
  flowsDir: string;
  /** Runs what cannot be queued. */
  local: TaskDispatcher;
  /** Large arguments and results through the result store (default: everything inline). */
  payloads?: TaskRunPayloads;
}

export class QueueTaskDispatcher implements TaskDispatcher {
  private readonly queue: Queue<TaskRunJob>;
  private replies: TaskRunReplyReader | null = null;
  private repliesConnection: Redis | null = null;
  private readonly payloads: TaskRunPayloads;
  /**
   * Jobs being added at once: a `.map()` over 20,000 items enqueues them a few hundred at a time
   * (ioredis pipelines each batch), rather than building 20,000 jobs and commands in one go.
   */
  private readonly enqueueing = new Semaphore(256);

  constructor(private readonly options: QueueTaskDispatcherOptions) {
    this.payloads = options.payloads ?? new TaskRunPayloads();
    this.queue = new Queue<TaskRunJob>(taskRunQueueName(options.workPoolName), {
      connection: options.connection,
      prefix: options.prefix,
    });
  }

  async dispatch<T>(request: TaskRunRequest, runHere: () => Promise<T>): Promise<T> {
    const module = this.moduleOf(request);
    if (module === null) return this.options.local.dispatch(request, runHere);
    const replies = request.detached ? null : this.replyReader();
    const args = this.payloads.encodeArgs(request);
    if (args.stored) await this.payloads.save(args.stored);
    // Waiting starts before the job exists, so even the fastest reply is not missed.
    const result = replies?.wait<T>(request.taskRunId);
    try {
      await this.enqueueing.run(() =>
        withProducerSpan(this.queue.name, request.taskRunId, (traceContext) =>
          this.queue.add(
            TASK_RUN_JOB_NAME,
            { ...request, args: args.value, module, replyTo: replies?.stream ?? null, traceContext },
            { jobId: request.taskRunId, attempts: 1, removeOnComplete: true, removeOnFail: { age: 24 * 3600 } },
          ),
        ),
      );
    } catch (error) {
      replies?.forget(request.taskRunId);
      if (args.stored) this.payloads.discard([args.stored.key]);
      throw error;
    }
    if (!result) return undefined as T; // .delay(): handed over, not awaited
    return this.payloads.receive<T>(result, args);
  }

  /** The task's module relative to the flows directory, or null when workers could not load it. */
  private moduleOf(request: TaskRunRequest): string | null {
    if (!request.definedIn || !request.flowRun) return null;
    const module = relative(this.options.flowsDir, request.definedIn);
    return module.startsWith("..") || isAbsolute(module) ? null : module;
  }

  private replyReader(): TaskRunReplyReader {
    if (!this.replies) {
      // Replies are read with blocking XREADs: a connection of its own, closed by close().
      this.repliesConnection = this.options.connection.duplicate({ maxRetriesPerRequest: null });
      const stream = redisKeys(this.options.prefix).taskRunReplies(randomUUID());
      this.replies = new TaskRunReplyReader(this.repliesConnection, stream);
    }
    return this.replies;
  }

  drain(): Promise<void> {
    return this.options.local.drain?.() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    this.replies?.close();
    this.repliesConnection?.disconnect();
    if (this.replies) await this.options.connection.del(this.replies.stream).catch(() => {});
    await this.queue.close();
  }
}
