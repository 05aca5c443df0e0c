/**
 * Handing flow runs to workers: after a run is committed to Postgres it is enqueued on its work
 * pool's BullMQ queue (job id = run id, delayed until due). A failed enqueue does not fail the
 * request: the run is safe in Postgres and the scheduler's reconciler enqueues it again.
 */
import { isTerminal } from "@sluice/core";
import type { DeletedFlowRun, FlowRun, WithdrawnRun, WorkPool } from "@sluice/db";
import {
  type FlowRunCancellation,
  type FlowRunQueues,
  flowRunJobOf,
  type RunSource,
  taskRunQueueName,
} from "@sluice/queue";
import type { Logger } from "@sluice/telemetry";

export class FlowRunDispatcher {
  constructor(
    private readonly queues: FlowRunQueues,
    private readonly logger: Logger,
    private readonly cancellation?: FlowRunCancellation,
  ) {}

  /** Enqueues a SCHEDULED run (anything else is not for workers to pick up). */
  async enqueue(run: FlowRun, source: RunSource): Promise<void> {
    if (run.stateType !== "SCHEDULED") return;
    const job = flowRunJobOf(run, source);
    try {
      await this.queues.enqueue(job);
    } catch (error) {
      this.logger.error(
        { err: error, flowRunId: run.id, workPoolName: job.workPoolName },
        "could not enqueue the flow run; the reconciler will enqueue it",
      );
    }
  }

  /** Replaces the run's job (a finished or waiting one) by one for its new scheduled time. */
  async reschedule(run: FlowRun, source: RunSource): Promise<void> {
    await this.withdraw([{ id: run.id, workPoolName: run.workPoolName }]);
    await this.enqueue(run, source);
  }

  /**
   * Removes the jobs of runs that will not run (deleted, cancelled). A job a worker holds stays.
   * Returns the ids of the runs whose job was removed (they were waiting or delayed).
   */
  async withdraw(runs: WithdrawnRun[]): Promise<Set<string>> {
    return (await this.withdrawJobs(runs)).removed;
  }

  /** `withdraw`, with the runs that had no job at all. */
  private async withdrawJobs(runs: WithdrawnRun[]): Promise<{ removed: Set<string>; missing: Set<string> }> {
    const { removed, missing, failed } = await this.queues.removeAll(runs);
    for (const { id, error } of failed)
      this.logger.warn({ err: error, flowRunId: id }, "could not remove the flow run's job");
    return { removed, missing };
  }

  /**
   * Withdraws the job of a run being cancelled; true when no worker can have the run: its job was
   * still waiting or delayed, or it is a deployment's run that never ran and has no job at all
   * (Redis lost it and the reconciler has not put it back). Otherwise whoever holds it is told to
   * stop. A run without a job that is not a deployment's is run by a client, which is told too.
   */
  async withdrawCancelled(run: FlowRun): Promise<boolean> {
    // "Missing" is what the withdrawal found before it cleared anything: a finished job is not "no job".
    const { removed, missing } = await this.withdrawJobs([{ id: run.id, workPoolName: run.workPoolName }]);
    if (removed.has(run.id)) return true;
    await this.announceCancellation(run.id);
    return run.deploymentId !== null && run.runCount === 0 && missing.has(run.id);
  }

  /**
   * Withdraws the jobs of deleted runs; a run a worker may hold (its job stayed, and it had not
   * finished) is told to stop, as for a cancel.
   */
  async withdrawDeleted(runs: DeletedFlowRun[]): Promise<void> {
    const removed = await this.withdraw(runs);
    for (const run of runs) {
      if (!removed.has(run.id) && !(run.stateType && isTerminal(run.stateType)))
        await this.announceCancellation(run.id);
    }
  }

  /**
   * Tells the workers that a run one of them may hold is being cancelled (Redis pub/sub, plus a
   * marker for a worker that takes the job afterwards). A failure is logged: the run stays CANCELLING.
   */
  async announceCancellation(flowRunId: string): Promise<void> {
    try {
      await this.cancellation?.announce(flowRunId);
    } catch (error) {
      this.logger.error({ err: error, flowRunId }, "could not announce the cancellation to the workers");
    }
  }

  /** A run scheduled again must not be stopped by an earlier cancellation's marker. */
  async clearCancellation(flowRunId: string): Promise<void> {
    try {
      await this.cancellation?.clear(flowRunId);
    } catch (error) {
      this.logger.warn({ err: error, flowRunId }, "could not clear the run's cancellation marker");
    }
  }

  /** Jobs in the pool's flow-run and task-run queues, by state (work pool health). */
  async queueDepth(workPoolName: string): Promise<{ flow_runs: JobCounts; task_runs: JobCounts }> {
    const states = ["waiting", "active", "delayed", "prioritized", "failed"] as const;
    const flowCounts = await this.queues.queue(workPoolName).getJobCounts(...states);
    const taskCounts = await this.queues.other(taskRunQueueName(workPoolName)).getJobCounts(...states);
    return { flow_runs: depthOf(flowCounts), task_runs: depthOf(taskCounts) };
  }

  /** A pool's pause and concurrency limit apply to its queue, for every worker at once. */
  async applyPoolSettings(pool: WorkPool): Promise<void> {
    const queue = this.queues.queue(pool.name);
    if (pool.concurrencyLimit === null) await queue.removeGlobalConcurrency();
    else await queue.setGlobalConcurrency(pool.concurrencyLimit);
    if (pool.paused) await queue.pause();
    else await queue.resume();
  }
}

export interface JobCounts {
  waiting: number;
  running: number;
  delayed: number;
  failed: number;
}

function depthOf(counts: Record<string, number>): JobCounts {
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    running: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    failed: counts.failed ?? 0,
  };
}
