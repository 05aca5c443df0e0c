/**
 * Consumes a pool's task queue: each job is a task run submitted by a flow on some worker; it runs
 * here with the engine (same states, retries, caching, limits) and its result (or error) goes to
 * the submitter's reply stream, which wakes it.
 *
 * Concurrency limits (tags, the task's `concurrencyLimit`, its rate limit): a run takes its slots
 * without waiting; when one is taken it is recorded AwaitingConcurrencySlot (once) and its job is
 * parked in the delayed set, holding no worker slot, until a run that frees a slot promotes it
 * (see ParkedJobs); then it runs with the slots it took, released when it ends.
 */

import { setMaxListeners } from "node:events";
import { afterSettled, CancelledError, describeError, type Lease, Semaphore, startOrStop } from "@sluice/core";
import {
  bullmqConnection,
  CANCELLED_MARKER_TTL_SECONDS,
  type ChannelSubscription,
  ChunkProgress,
  chunkSize,
  FlowRunCancellation,
  type FullChunkJob,
  isChunkJob,
  type LocalReplies,
  parkedJobWaiter,
  RedisLeaseStore,
  redisKeys,
  runsOfChunk,
  type SlotLimit,
  type TaskRunChunkJob,
  type TaskRunJob,
  TaskRunPayloads,
  type TaskRunQueueJob,
  type TaskRunReply,
  TaskRunReplySender,
  taskRunQueueName,
} from "@sluice/queue";
import {
  DEFAULT_LEASE_TTL_MS,
  type Engine,
  loadTask,
  rateLimitKey,
  runTaskRunRequest,
  type SlotAcquirer,
  type SlotRequest,
  slotLimitsOf,
  type Task,
} from "@sluice/sdk";
import { consumeChunkJob, consumeJob, type Logger, NOT_A_FAILURE } from "@sluice/telemetry";
import { DelayedError, type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { DEFAULT_LOCK_DURATION_MS } from "./flow-run-worker.js";
import { consumedJob } from "./job-telemetry.js";

/**
 * As long as Redis keeps a cancellation's marker, which answers for a cancelled flow run once the
 * worker has forgotten it: after that neither knows (a worker started later never heard it either).
 */
const DEFAULT_CANCELLATION_MEMORY_MS = CANCELLED_MARKER_TTL_SECONDS * 1000;

export interface TaskRunWorkerOptions {
  connection: Redis;
  prefix: string;
  workPoolName: string;
  flowsDir: string;
  /** Most task runs at once in this process. */
  limit: number;
  /** Lock on each task run's job, renewed at half this; a dead worker's jobs go to others within ~1.5× it. */
  lockDurationMs?: number;
  engine: Engine;
  logger: Logger;
  /** Large arguments and results through the result store (default: everything inline). */
  payloads?: TaskRunPayloads;
  /** Shared with the task dispatcher of this process: replies to its flows skip Redis. */
  localReplies?: LocalReplies;
  /**
   * How long the worker remembers whether a flow run is cancelled (announced, or asked of Redis)
   * before asking Redis again. Default 10 minutes, as long as Redis keeps the cancellation marker.
   */
  cancellationMemoryMs?: number;
}

export class TaskRunWorker {
  private worker: Worker<TaskRunQueueJob> | null = null;
  private blockingConnection: Redis | null = null;
  private readonly tasks = new Map<string, Promise<Task<unknown[], unknown>>>();
  /** The tasks `tasks` has loaded: taken without awaiting. */
  private readonly loaded = new Map<string, Task<unknown[], unknown>>();
  private cancellation: FlowRunCancellation | null = null;
  private cancelSubscription: ChannelSubscription | null = null;
  /**
   * One abort controller per flow run whose task runs run here, shared by them (cancelling the
   * flow aborts them all): a controller and its signal per task run cost a `.map()` of 20,000
   * items about 3% of a worker's CPU. Dropped when the last of its runs ends.
   */
  private readonly running = new Map<string, { controller: AbortController; runs: number }>();
  /**
   * Whether a flow run was cancelled, asked of Redis once per flow run rather than once per task
   * run: a cancellation announced afterwards arrives through the subscription and updates it.
   * Every entry is forgotten after `cancellationMemoryMs`, so the map stays small on a long-lived
   * worker that hears every cancellation of its pool.
   */
  private readonly flowRunCancelled = new Map<string, CancellationAnswer>();
  /** Task runs this worker ran, whatever their outcome (not counting runs put back to wait for a slot). */
  taskRunsFinished = 0;
  /** Concurrency slots of the task runs (releasing one wakes the run waiting longest for it). */
  private readonly leases: RedisLeaseStore;
  /** Jobs this worker parked lately, by flow run: cancelling the flow wakes them, to end Cancelled at once. */
  private readonly parkedByFlowRun = new Map<string, Set<string>>();

  private readonly payloads: TaskRunPayloads;
  /** Replies go on a connection of their own, without auto-pipelining (see `start`). */
  private replies: TaskRunReplySender | null = null;
  private repliesConnection: Redis | null = null;
  /** Task runs at once in this process, whether each has its job or shares a chunk job. */
  private readonly slots: Semaphore;
  private readonly progress: ChunkProgress;
  /** Jobs (single runs or chunks) this worker is processing. */
  private jobsInHand = 0;
  /** Runs per job taken lately (see `adjustFetching`). */
  private runsPerJob = 1;

  constructor(private readonly options: TaskRunWorkerOptions) {
    this.payloads = options.payloads ?? new TaskRunPayloads();
    this.slots = new Semaphore(options.limit);
    this.progress = new ChunkProgress(options.connection, redisKeys(options.prefix));
    this.leases = new RedisLeaseStore(options.connection, redisKeys(options.prefix), (error, limit) =>
      options.logger.warn({ err: error, limit }, "could not wake a task run waiting for a concurrency slot"),
    );
  }

  /** Starts taking task runs; what it started is stopped again when starting fails. */
  start(): Promise<void> {
    return startOrStop(
      () => this.startTaking(),
      () => this.stop(),
    );
  }

  private async startTaking(): Promise<void> {
    const { options } = this;
    this.cancellation = new FlowRunCancellation(options.connection, redisKeys(options.prefix));
    this.cancelSubscription = await this.cancellation.subscribe(
      (flowRunId) => {
        this.rememberCancelled(flowRunId, Promise.resolve(true), true);
        this.running.get(flowRunId)?.controller.abort(new CancelledError("Flow run cancelled"));
        this.wakeParked(flowRunId);
      },
      // Announcements may have been missed while disconnected: ask Redis again.
      () => this.flowRunCancelled.clear(),
    );
    // A reply is on a flow's critical path (a chain of `.submit()`s waits for each): auto-pipelining
    // would hold each one for a turn of the event loop (0.18 against 0.05 ms for a round trip on
    // an idle Redis), and the sender batches replies itself while one is on its way.
    this.repliesConnection = options.connection.duplicate({ enableAutoPipelining: false });
    this.replies = new TaskRunReplySender(this.repliesConnection, options.localReplies);
    // BullMQ never closes a connection it is given, so this worker keeps and closes its own.
    this.blockingConnection = bullmqConnection(options.connection, { maxRetriesPerRequest: null });
    this.worker = new Worker<TaskRunQueueJob>(
      taskRunQueueName(options.workPoolName),
      (job, token) => this.process(job, token),
      {
        connection: this.blockingConnection,
        prefix: options.prefix,
        // One job first: its size sets how many to take ahead (see adjustFetching).
        concurrency: 1,
        autorun: false,
        // As for flow runs: a task run held by a worker that died is handed to another within ~1.5× the lock.
        lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
        stalledInterval: (options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS) / 2,
        maxStalledCount: 1_000_000,
      },
    );
    this.worker.on("error", (error) => options.logger.error({ err: error }, "task-run queue error"));
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    this.worker = null;
    this.blockingConnection?.disconnect();
    this.blockingConnection = null;
    this.repliesConnection?.disconnect();
    this.repliesConnection = null;
    this.replies = null;
    this.cancelSubscription?.close();
    this.cancelSubscription = null;
    await this.leases.close();
  }

  private async process(job: Job<TaskRunQueueJob>, token?: string): Promise<null> {
    this.jobsInHand++;
    this.tookJob(isChunkJob(job.data) ? chunkSize(job.data) : 1);
    this.adjustFetching();
    try {
      if (isChunkJob(job.data)) return await this.processChunk(job as Job<TaskRunChunkJob | FullChunkJob>);
      const single = job as Job<TaskRunJob>;
      return await consumeJob(consumedJob(single, "task-runs", this.options.workPoolName), () =>
        this.inSlot(() => this.processSingle(single, token)),
      );
    } finally {
      this.jobsInHand--;
      this.adjustFetching();
    }
  }

  /** Runs `work` in one of this worker's task-run slots. */
  private inSlot<T>(work: () => Promise<T>): Promise<T> {
    const taken = this.slots.run(() => {
      this.adjustFetching();
      return work();
    });
    this.adjustFetching();
    return afterSettled(taken, () => this.adjustFetching());
  }

  /**
   * BullMQ takes jobs ahead while it holds fewer than its concurrency. A chunk job brings many
   * runs, so the worker takes more jobs only while no run of its own waits for a slot: as many as
   * its free slots fill, at the size of the jobs it took lately (at least one, to have the next at
   * hand). It never hoards chunks whose runs would wait here while other workers have nothing to
   * do, so the tail of a `.map()` of slow tasks spreads over every worker. With jobs of one run
   * each, that is its task-run limit, as before.
   */
  private adjustFetching(): void {
    if (!this.worker) return;
    const ahead = this.slots.waitingCount > 0 ? 0 : Math.max(1, Math.ceil(this.slots.free / this.runsPerJob));
    this.worker.concurrency = Math.max(1, Math.min(this.options.limit, this.jobsInHand + ahead));
  }

  /** Learns the size of the jobs taken (a moving average), for `adjustFetching`. */
  private tookJob(runs: number): void {
    this.runsPerJob += (runs - this.runsPerJob) / 4;
  }

  /** A job of one task run: it may be parked to wait for a concurrency slot. */
  private async processSingle(job: Job<TaskRunJob>, token: string | undefined): Promise<null> {
    const request = job.data;
    const reply = await this.runTaskRun(request, (engine, slots) => this.takeSlotsOrPark(job, token, engine, slots));
    // Parked: BullMQ leaves the job in the delayed set, and it is picked again when promoted.
    if (!reply) throw new DelayedError();
    if (request.replyTo) await this.sendReply(request.replyTo, reply);
    // The reply carried the result; a failed job is kept a day for inspection.
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { name: reply.error.name });
    return null;
  }

  /**
   * A chunk job: its task runs run side by side (each taking one of this worker's task-run slots),
   * each in a span of its own under the chunk's `process` span. A chunk picked again after its
   * worker died skips the runs that worker finished.
   */
  private async processChunk(job: Job<TaskRunChunkJob | FullChunkJob>): Promise<null> {
    const jobId = job.id ?? "";
    const redelivered = job.attemptsStarted > 1 || job.stalledCounter > 0;
    const finished = redelivered ? await this.progress.finished(jobId) : null;
    const outcomes = await consumeChunkJob(
      consumedJob(job, "task-runs", this.options.workPoolName),
      runsOfChunk(job.data).filter((request) => !finished?.has(request.taskRunId)),
      (request) => request.traceContext,
      (request) => this.inSlot(() => this.processChunked(jobId, request)),
    );
    const failed = outcomes.find((outcome) => outcome.status === "rejected");
    // A reply that could not be sent: the chunk fails (and is kept a day), the others were sent.
    if (failed) throw failed.reason;
    await this.progress.forget(jobId);
    return null;
  }

  private async processChunked(jobId: string, request: TaskRunJob): Promise<void> {
    // Runs of a chunk have no limits, so nothing parks them (see TaskRunRequest.limited).
    const reply = await this.runTaskRun(request);
    if (reply && request.replyTo) await this.sendReply(request.replyTo, reply);
    await this.progress.markDone(jobId, request.taskRunId);
  }

  private sendReply(stream: string, reply: TaskRunReply): Promise<void> {
    if (!this.replies) return Promise.reject(new Error("the task-run worker is stopped"));
    return this.replies.send(stream, reply);
  }

  /**
   * Runs one queued task run; its reply, or null when it was parked to wait for a concurrency
   * slot (by `acquireSlots`; without it, the run waits for its slots here).
   */
  private async runTaskRun(request: TaskRunJob, acquireSlots?: SlotAcquirer): Promise<TaskRunReply | null> {
    const flowRunId = request.flowRun?.id;
    // What is known already is used without awaiting: a `.map()`'s runs pay for every promise.
    const signalOrWait = this.signalFor(flowRunId);
    const signal = signalOrWait instanceof AbortSignal ? signalOrWait : await signalOrWait;
    /** Null while the run waits for a concurrency slot: its job went back to the delayed set. */
    let reply: TaskRunReply | null = null;
    try {
      const task = this.loaded.get(taskKeyOf(request)) ?? (await this.load(request));
      const run = this.payloads.inlineRequestOf(request) ?? (await this.payloads.requestOf(request));
      const value = await runTaskRunRequest(this.options.engine, task, run, signal, {
        recorded: request.awaitingSlot === true,
        acquireSlots,
      });
      const result = this.payloads.encodeResult(request, value);
      if (result.stored) await this.payloads.save(result.stored);
      reply = { taskRunId: request.taskRunId, ok: true, value: result.value };
    } catch (error) {
      if (!(error instanceof TaskRunParked)) {
        const { type, message } = describeError(error);
        reply = { taskRunId: request.taskRunId, ok: false, error: { name: type, message } };
      }
    } finally {
      if (flowRunId) this.runEnded(flowRunId);
      if (reply) {
        this.taskRunsFinished++;
        this.payloads.finished(request);
      }
    }
    return reply;
  }

  /**
   * The signal a task run of this flow run runs with: aborted when the flow run is cancelled, and
   * already aborted when it was before (its runs are recorded Cancelled, never started). A run
   * outside any flow run has one of its own. Each call for a flow run is matched by `runEnded`.
   */
  private signalFor(flowRunId: string | undefined): AbortSignal | Promise<AbortSignal> {
    if (!flowRunId) return new AbortController().signal;
    let shared = this.running.get(flowRunId);
    if (!shared) {
      const controller = new AbortController();
      // Every task run of the flow here listens to it while it runs.
      setMaxListeners(0, controller.signal);
      shared = { controller, runs: 0 };
      this.running.set(flowRunId, shared);
    }
    shared.runs++;
    const { controller } = shared;
    if (controller.signal.aborted) return controller.signal;
    const known = this.flowRunCancelled.get(flowRunId);
    if (known?.answer !== undefined) {
      if (known.answer) controller.abort(new CancelledError("Flow run cancelled"));
      return controller.signal;
    }
    return this.isFlowRunCancelled(flowRunId).then(
      (cancelled) => {
        if (cancelled && !controller.signal.aborted) controller.abort(new CancelledError("Flow run cancelled"));
        return controller.signal;
      },
      (error: unknown) => {
        this.runEnded(flowRunId);
        throw error;
      },
    );
  }

  private runEnded(flowRunId: string): void {
    const shared = this.running.get(flowRunId);
    if (shared && --shared.runs === 0) this.running.delete(flowRunId);
  }

  /**
   * A queued run's slots, taken without waiting (its rate limit's start first, as inline). When one
   * is taken, the run is recorded AwaitingConcurrencySlot (once) and its job is parked: this throws
   * TaskRunParked, and the job is picked again when a slot frees.
   */
  private async takeSlotsOrPark(
    job: Job<TaskRunJob>,
    token: string | undefined,
    engine: Engine,
    request: SlotRequest,
  ): Promise<Lease[]> {
    const limits = await slotLimitsOf(engine, request);
    if (request.signal.aborted) {
      // Cancelled while it waited: a slot it was woken for goes to the next run waiting.
      if (job.data.awaitingSlot) {
        for (const limit of limits)
          if (await this.leases.hasFreeSlot(limit.key, limit.limit)) await this.leases.parked.wakeNext(limit.key);
      }
      throw request.signal.reason ?? new CancelledError();
    }
    const { rateLimit } = request;
    if (rateLimit) {
      // A full window frees by itself: parked exactly until its oldest start leaves it.
      const waitMs = await this.leases.tryThrottle(rateLimitKey(request.taskKey), rateLimit.max, rateLimit.durationMs);
      if (waitMs > 0) return this.park(job, token, request, null, waitMs);
    }
    const waiter = parkedJobWaiter(job.queueName, job.id ?? request.taskRunId);
    const taken = await this.leases.parked.take(limits, request.taskRunId, {
      ttlMs: engine.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      waiter: () => waiter,
    });
    if (taken.kind === "busy") return this.park(job, token, request, taken.limit, taken.retryInMs);
    return taken.leases;
  }

  private async park(
    job: Job<TaskRunJob>,
    token: string | undefined,
    request: SlotRequest,
    busy: SlotLimit | null,
    retryInMs: number,
  ): Promise<never> {
    if (!job.data.awaitingSlot) {
      request.onWait();
      await job.updateData({ ...job.data, awaitingSlot: true });
    }
    const delayMs = await this.leases.parked.park(job, token, busy, retryInMs);
    const flowRunId = job.data.flowRun?.id;
    const jobId = job.id;
    if (flowRunId && jobId) {
      const jobs = this.parkedByFlowRun.get(flowRunId) ?? new Set();
      this.parkedByFlowRun.set(flowRunId, jobs.add(jobId));
      // Past its delay it is picked again anyway (maybe by another worker): forgotten here.
      setTimeout(() => {
        jobs.delete(jobId);
        if (jobs.size === 0 && this.parkedByFlowRun.get(flowRunId) === jobs) this.parkedByFlowRun.delete(flowRunId);
      }, delayMs + 1_000).unref();
    }
    throw new TaskRunParked();
  }

  /** Promotes the jobs of a cancelled flow run this worker parked: picked now, they end Cancelled. */
  private wakeParked(flowRunId: string): void {
    const jobs = this.parkedByFlowRun.get(flowRunId);
    if (!jobs) return;
    this.parkedByFlowRun.delete(flowRunId);
    const queueName = taskRunQueueName(this.options.workPoolName);
    for (const jobId of jobs) {
      this.leases.parked.promote(queueName, jobId).catch((error: unknown) => {
        this.options.logger.warn({ err: error, flowRunId }, "could not wake a parked task run of a cancelled flow run");
      });
    }
  }

  private isFlowRunCancelled(flowRunId: string): Promise<boolean> {
    let remembered = this.flowRunCancelled.get(flowRunId);
    if (!remembered) {
      remembered = this.rememberCancelled(
        flowRunId,
        this.cancellation?.isCancelled(flowRunId) ?? Promise.resolve(false),
      );
    }
    return remembered.asked;
  }

  /** Flow runs whose cancellation (or not) this worker remembers. */
  get rememberedCancellations(): number {
    return this.flowRunCancelled.size;
  }

  /** Remembers for `cancellationMemoryMs` (a failed question not at all); a newer answer replaces it. */
  private rememberCancelled(flowRunId: string, asked: Promise<boolean>, answer?: boolean): CancellationAnswer {
    const remembered: CancellationAnswer = { asked, answer };
    this.flowRunCancelled.set(flowRunId, remembered);
    const forget = () => {
      if (this.flowRunCancelled.get(flowRunId) === remembered) this.flowRunCancelled.delete(flowRunId);
    };
    asked.then((cancelled) => {
      remembered.answer = cancelled;
    }, forget);
    setTimeout(forget, this.options.cancellationMemoryMs ?? DEFAULT_CANCELLATION_MEMORY_MS).unref();
    return remembered;
  }

  private load(request: TaskRunJob): Promise<Task<unknown[], unknown>> {
    const key = taskKeyOf(request);
    let task = this.tasks.get(key);
    if (!task) {
      task = loadTask(this.options.flowsDir, request.module, request.taskName);
      this.tasks.set(key, task);
      task.then(
        (loaded) => this.loaded.set(key, loaded),
        () => this.tasks.delete(key),
      );
    }
    return task;
  }
}

const taskKeyOf = (request: TaskRunJob) => `${request.module}:${request.taskName}`;

/** Whether a flow run is cancelled, as asked of Redis; `answer` once it came. */
interface CancellationAnswer {
  asked: Promise<boolean>;
  answer?: boolean;
}

/** Thrown by a queued run's slot acquirer once its job is parked: the run ends here, without running. */
class TaskRunParked extends Error {
  /** Leaving to wait is not a failure: the run's spans end without an error. */
  readonly [NOT_A_FAILURE] = true;

  constructor() {
    super("Task run parked until a concurrency slot frees");
    this.name = "TaskRunParked";
  }
}
