/**
 * Adds task-run jobs to the pool's queue in batches: what a flow submits while a batch is on its
 * way waits in a plain array, and goes in the next batch (one Redis round trip, BullMQ's
 * `addBulk`). A `.map()` over 20,000 items thus holds 20,000 small entries until they are sent,
 * rather than 20,000 suspended `queue.add` calls with their promises, closures and BullMQ job
 * objects, and costs 25 round trips rather than 20,000 commands.
 *
 * Within a batch, runs without limits go in chunk jobs of several runs each (see task-run-queue.ts),
 * small enough that a batch still spreads over many workers.
 */
import type { TaskRunJob, TaskRunQueueJob } from "@sluice/queue";
import { chunkJob, shareChunk, TASK_RUN_CHUNK_JOB_NAME, TASK_RUN_JOB_NAME } from "@sluice/queue";
import { type Context, type ProducerSpan, producerParent, startBatchProducerSpan } from "@sluice/telemetry";
import type { JobsOptions, Queue } from "bullmq";

/** Most task runs in one chunk job. */
const MAX_CHUNK = 50;
/** A batch's runs are cut into about this many chunks (fewer, smaller ones for a small batch). */
const CHUNKS_PER_BATCH = 16;
/**
 * Task runs per batch (one round trip): a full batch is cut into chunks of the largest size.
 * BullMQ's work per job (scripts, lock, bookkeeping) costs one to two milliseconds of CPU, Redis
 * and worker together, so a `.map()` of 20,000 no-op runs costs 9% less CPU in chunks of 50 than
 * in the chunks of 31 that batches of 500 made (`npm run bench:cpu`). A smaller batch (a smaller
 * `.map()`) still spreads over 16 chunks, as many workers. 800 runs make about 50 KB to send.
 */
const BATCH_SIZE = CHUNKS_PER_BATCH * MAX_CHUNK;

/**
 * A job's options: its id is its task run's (a chunk's: its first run's), so adding it twice adds
 * it once.
 */
const jobOptions = (jobId: string): JobsOptions => ({
  jobId,
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: { age: 24 * 3600 },
});

interface QueueJob {
  name: string;
  data: TaskRunQueueJob;
  opts: JobsOptions;
  /** The pending jobs it carries. */
  jobs: PendingJob[];
}

/**
 * The batch as queue jobs, in submission order: runs of limited tasks alone, the others in chunks
 * of runs that differ only in their id, arguments and index (see `chunkJob`).
 */
function queueJobs(batch: PendingJob[]): QueueJob[] {
  const size = Math.min(MAX_CHUNK, Math.floor(batch.filter((job) => !job.data.limited).length / CHUNKS_PER_BATCH));
  const out: QueueJob[] = [];
  let chunk: PendingJob[] = [];
  const endChunk = () => {
    const [first] = chunk;
    if (first && chunk.length === 1) out.push(singleJob(first));
    else if (first) {
      out.push({
        name: TASK_RUN_CHUNK_JOB_NAME,
        data: chunkJob(chunk.map((job) => job.data)),
        opts: jobOptions(`chunk-${first.data.taskRunId}`),
        jobs: chunk,
      });
    }
    chunk = [];
  };
  for (const job of batch) {
    if (size < 2 || job.data.limited) {
      endChunk();
      out.push(singleJob(job));
      continue;
    }
    if (chunk[0] && !shareChunk(chunk[0].data, job.data)) endChunk();
    chunk.push(job);
    if (chunk.length === size) endChunk();
  }
  endChunk();
  return out;
}

function singleJob(job: PendingJob): QueueJob {
  return { name: TASK_RUN_JOB_NAME, data: job.data, opts: jobOptions(job.data.taskRunId), jobs: [job] };
}

interface PendingJob {
  data: TaskRunJob;
  /** The submitter's trace context (undefined when tracing is off): the batch's `send` span goes under it. */
  parent: Context | undefined;
  /** Called once the job is added (error undefined) or could not be. */
  done: (error?: unknown) => void;
}

export class TaskRunEnqueuer {
  /** Not sent yet, oldest first (a sent job leaves it, so nothing sent stays referenced). */
  private pending: PendingJob[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly queue: Queue<TaskRunQueueJob>) {}

  /** Adds the job (its id is its task run id) in the next batch; `done` says how that went. */
  add(data: TaskRunJob, done: (error?: unknown) => void): void {
    this.pending.push({ data, parent: producerParent(), done });
    this.flushing ??= this.flush();
  }

  /** Resolves once everything added so far has been sent (or failed). */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    // After the current synchronous code, so a `.map()` loop fills the first batch.
    await Promise.resolve();
    try {
      while (this.pending.length > 0) await this.send(this.pending.splice(0, BATCH_SIZE));
    } finally {
      // In the same step as the last check of `pending`: a job added later starts a new flush.
      this.flushing = null;
    }
  }

  private async send(batch: PendingJob[]): Promise<void> {
    const traced = this.startSpans(batch);
    const failures = new Map<PendingJob, unknown>();
    const jobs = queueJobs(batch);
    try {
      // One job (a lone `.submit()`, a chain's next step): a plain add is one script call, where
      // addBulk wraps it in MULTI/EXEC: 0.21 against 0.42 ms to enqueue on an idle Redis.
      const [only] = jobs;
      if (only && jobs.length === 1) await this.queue.add(only.name, only.data, only.opts);
      else await this.queue.addBulk(jobs);
    } catch {
      // Which jobs of a failed pipeline were added is unknown: add each again on its own. A job id
      // that exists already is left as it is, so nothing runs twice, and only the jobs that still
      // fail report it.
      await Promise.all(
        jobs.map((job) =>
          this.queue.add(job.name, job.data, job.opts).catch((error: unknown) => {
            for (const pending of job.jobs) failures.set(pending, error);
          }),
        ),
      );
    }
    for (const { span, jobs } of traced) span.end(jobs.map((job) => failures.get(job)).find((e) => e !== undefined));
    for (const job of batch) job.done(failures.get(job));
  }

  /** One `send` span per trace parent among the batch's jobs; each job carries its span's context. */
  private startSpans(batch: PendingJob[]): { span: ProducerSpan; jobs: PendingJob[] }[] {
    const byParent = new Map<Context, PendingJob[]>();
    for (const job of batch) {
      if (!job.parent) continue;
      const jobs = byParent.get(job.parent);
      if (jobs) jobs.push(job);
      else byParent.set(job.parent, [job]);
    }
    return [...byParent].map(([parent, jobs]) => {
      const span = startBatchProducerSpan(
        this.queue.name,
        parent,
        jobs.map((job) => job.data.taskRunId),
      );
      for (const job of jobs) job.data.traceContext = span.traceContext;
      return { span, jobs };
    });
  }
}
