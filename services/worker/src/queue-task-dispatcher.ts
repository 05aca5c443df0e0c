/**
 * TaskDispatcher of flows running on a worker: submitted task runs go on the pool's task queue,
 * so every worker of the pool shares them; each job names this process's reply stream, where the
 * worker that ran it sends the result. A task the workers cannot load (not under the flows
 * directory, or outside a flow run) runs in this process instead.
 */
import { randomUUID } from "node:crypto";
import { isAbsolute, relative } from "node:path";
import type { TaskDispatcher, TaskRunRequest } from "@sluice/core";
import {
  bullmqConnection,
  type LocalReplies,
  redisKeys,
  type TaskRunJob,
  TaskRunPayloads,
  type TaskRunQueueJob,
  TaskRunReplyReader,
  taskRunQueueName,
} from "@sluice/queue";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { TaskRunEnqueuer } from "./task-run-enqueuer.js";

/** A request's arguments as its job carries them (inline, or a reference to the stored ones). */
type EncodedArgs = ReturnType<TaskRunPayloads["encodeArgs"]>;

export interface QueueTaskDispatcherOptions {
  connection: Redis;
  prefix: string;
  workPoolName: string;
  flowsDir: string;
  /** Runs what cannot be queued. */
  local: TaskDispatcher;
  /** Large arguments and results through the result store (default: everything inline). */
  payloads?: TaskRunPayloads;
  /** Shared with the task-run worker of this process: replies to runs it ran skip Redis. */
  localReplies?: LocalReplies;
}

export class QueueTaskDispatcher implements TaskDispatcher {
  private readonly queue: Queue<TaskRunQueueJob>;
  /**
   * The queue's connection, apart from the one given: BullMQ defines its ~40 scripts on the
   * connection it uses, and ioredis copies every defined script onto each pipeline it makes, which
   * with auto-pipelining is every tick's batch of the events, replies and leases on that connection.
   */
  private readonly queueConnection: Redis;
  private readonly enqueuer: TaskRunEnqueuer;
  private replies: TaskRunReplyReader | null = null;
  private repliesConnection: Redis | null = null;
  private readonly payloads: TaskRunPayloads;
  /** The module of each task file, relative to the flows directory (one path computation per file, not per run). */
  private readonly modules = new Map<string, string | null>();

  constructor(private readonly options: QueueTaskDispatcherOptions) {
    this.payloads = options.payloads ?? new TaskRunPayloads();
    this.queueConnection = bullmqConnection(options.connection);
    this.queue = new Queue<TaskRunQueueJob>(taskRunQueueName(options.workPoolName), {
      connection: this.queueConnection,
      prefix: options.prefix,
    });
    this.enqueuer = new TaskRunEnqueuer(this.queue);
  }

  /**
   * Not async on purpose: a `.map()` calls it thousands of times at once, and what each call keeps
   * until its result arrives is only the reply wait and its entry in the enqueuer's batch.
   */
  dispatch<T>(request: TaskRunRequest, runHere: () => Promise<T>): Promise<T> {
    const module = this.moduleOf(request);
    if (module === null) return this.options.local.dispatch(request, runHere);
    let args: EncodedArgs;
    try {
      args = this.payloads.encodeArgs(request);
    } catch (error) {
      return Promise.reject(error); // e.g. arguments that are not JSON
    }
    if (args.stored) return this.dispatchStored(request, module, args, args.stored);
    return this.enqueue(request, module, args);
  }

  /** Large arguments go to the result store before the job that refers to them is added. */
  private async dispatchStored<T>(
    request: TaskRunRequest,
    module: string,
    args: EncodedArgs,
    stored: NonNullable<EncodedArgs["stored"]>,
  ): Promise<T> {
    await this.payloads.save(stored);
    return this.enqueue(request, module, args);
  }

  private enqueue<T>(request: TaskRunRequest, module: string, args: EncodedArgs): Promise<T> {
    const replies = request.detached ? null : this.replyReader();
    // Every field set here, once, in one order: a .map() keeps thousands of these until they are
    // sent, and objects built by spreading and then extending each got a hidden class of their own.
    const job: TaskRunJob = {
      taskRunId: request.taskRunId,
      taskName: request.taskName,
      definedIn: request.definedIn,
      args: args.value,
      dynamicKey: request.dynamicKey,
      flowRun: request.flowRun,
      logPrints: request.logPrints,
      detached: request.detached,
      traceContext: request.traceContext,
      limited: request.limited === true,
      module,
      replyTo: replies?.stream ?? null,
    };
    if (!replies) {
      // .delay(): handed over once added, not awaited.
      return new Promise<T>((resolve, reject) => {
        this.enqueuer.add(job, (error) => (error === undefined ? resolve(undefined as T) : reject(error)));
      });
    }
    // Waiting starts before the job exists, so even the fastest reply is not missed.
    const result = replies.wait<T>(request.taskRunId);
    // Not added: the wait ends with the error (and `receive` discards stored arguments either way).
    this.enqueuer.add(job, (error) => {
      if (error !== undefined) replies.fail(request.taskRunId, error);
    });
    return this.payloads.receive<T>(result, args);
  }

  /** The task's module relative to the flows directory, or null when workers could not load it. */
  private moduleOf(request: TaskRunRequest): string | null {
    if (!request.definedIn || !request.flowRun) return null;
    let module = this.modules.get(request.definedIn);
    if (module === undefined) {
      const path = relative(this.options.flowsDir, request.definedIn);
      module = path.startsWith("..") || isAbsolute(path) ? null : path;
      this.modules.set(request.definedIn, module);
    }
    return module;
  }

  private replyReader(): TaskRunReplyReader {
    if (!this.replies) {
      // Replies are read with blocking XREADs: a connection of its own, closed by close().
      this.repliesConnection = this.options.connection.duplicate({ maxRetriesPerRequest: null });
      const stream = redisKeys(this.options.prefix).taskRunReplies(randomUUID());
      this.replies = new TaskRunReplyReader(this.repliesConnection, stream, this.options.localReplies);
    }
    return this.replies;
  }

  drain(): Promise<void> {
    return this.options.local.drain?.() ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.enqueuer.idle();
    this.replies?.close();
    this.repliesConnection?.disconnect();
    if (this.replies) await this.options.connection.del(this.replies.stream).catch(() => {});
    await this.queue.close();
    this.queueConnection.disconnect();
  }
}
