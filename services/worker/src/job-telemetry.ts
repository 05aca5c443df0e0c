/** What the telemetry needs of a BullMQ job a worker took (see `consumeJob` in @sluice/telemetry). */
import type { ConsumedJob } from "@sluice/telemetry";
import { DelayedError, type Job } from "bullmq";

/** The job as `consumeJob` and `consumeChunkJob` take it, with the trace context its data carries. */
export function consumedJob(job: Job<object>, queue: ConsumedJob["queue"], pool: string): ConsumedJob {
  return {
    queueName: job.queueName,
    queue,
    pool,
    jobId: job.id ?? "",
    readyAt: job.timestamp + (job.delay ?? 0),
    takenAt: job.processedOn,
    traceContext: (job.data as { traceContext?: Record<string, string> }).traceContext,
    // A job moved back to wait (for a deployment slot) did not fail.
    isFailure: (error) => !(error instanceof DelayedError),
    // A task-run job of one task run: its task_run span is the consumer span (one span per task, not
    // two). A chunk job's runs have a consumer span of the chunk's instead (consumeChunkJob).
    runSpanIsConsumer: queue === "task-runs",
  };
}
