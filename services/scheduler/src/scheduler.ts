/**
 * The scheduler service: while it holds the leader lock, every tick it
 * - creates the next runs of every active schedule of every unpaused deployment (idempotent:
 *   one run per deployment and due time, even with two schedulers racing; none from a tick that
 *   read a deployment since paused or rescheduled) and enqueues them;
 * - marks runs still Scheduled a grace period after they were due as `Late`;
 * - re-enqueues runs that are Scheduled or Pending in Postgres but missing from Redis (the
 *   reconciler: a failed enqueue or a Redis restart never strands a run), once Postgres is current
 *   (the recorder is not behind).
 * The runs it creates and marks Late are announced to live views (RunStateNotices).
 */
import { randomUUID } from "node:crypto";
import type { CollisionStrategy } from "@sluice/core";
import {
  and,
  asc,
  type CreatedFlowRun,
  createDeploymentFlowRun,
  type Database,
  DeploymentChangedError,
  type DeploymentWithSchedules,
  eq,
  flowRuns,
  getFlowRuns,
  gt,
  inArray,
  listScheduledDeployments,
  lt,
  setFlowRunState,
  sql,
  type VersionedDeploymentSummary,
  type WithdrawnRun,
} from "@sluice/db";
import {
  FlowRunQueues,
  flowRunJobOf,
  type RunSource,
  RunStateNotices,
  readEventStreamLag,
  redisKeys,
} from "@sluice/queue";
import type { Logger } from "@sluice/telemetry";
import type { Redis } from "ioredis";
import { LeaderLock } from "./leader-lock.js";
import { dueTimes, type Schedule } from "./schedule-times.js";

export interface SchedulerOptions {
  database: Database;
  redis: Redis;
  prefix: string;
  logger: Logger;
  /** Time between ticks. Default 5 s. */
  intervalMs?: number;
  /** Runs are created this far ahead (default 1 h), at least `minRuns` (default 3) and at most `maxRuns` (100) per schedule. */
  horizonMs?: number;
  minRuns?: number;
  maxRuns?: number;
  /** A run still Scheduled this long after it was due is Late. Default 15 s, like Prefect. */
  lateAfterMs?: number;
  /** Runs the reconciler reads and looks up at a time. Default 1000. */
  reconcilePageSize?: number;
  /**
   * The reconciler waits while the recorder has events older than this not yet recorded (default
   * 10 s): Postgres may not know yet that a run it shows Scheduled or Pending went on.
   */
  reconcileMaxRecorderLagMs?: number;
  /** How long the leader lock lasts without renewal. Default 3 × interval. */
  leaseMs?: number;
}

export interface TickReport {
  leader: boolean;
  created: number;
  late: number;
  reenqueued: number;
}

export class Scheduler {
  private readonly queues: FlowRunQueues;
  private readonly notices: RunStateNotices;
  private readonly lock: LeaderLock;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<unknown> = Promise.resolve();
  readonly id = randomUUID();

  constructor(private readonly options: SchedulerOptions) {
    this.queues = new FlowRunQueues(options.redis, options.prefix);
    this.notices = new RunStateNotices(options.redis, options.prefix);
    const interval = options.intervalMs ?? 5000;
    this.lock = new LeaderLock(
      options.redis,
      `${options.prefix}:scheduler:leader`,
      this.id,
      options.leaseMs ?? interval * 3,
    );
  }

  start(): void {
    let busy = false;
    const tick = () => {
      // A tick that outlasts the interval (a backlog of late runs, a slow database) is not joined
      // by the next: two would mark the same runs Late twice.
      if (busy) return;
      busy = true;
      this.ticking = this.tick()
        .catch((error) => this.options.logger.error({ err: error }, "scheduler tick failed"))
        .finally(() => {
          busy = false;
        });
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 5000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    await this.lock.release().catch(() => {});
    await this.notices.flush();
    await this.queues.close();
  }

  /** One round of work; does nothing unless this scheduler is the leader. */
  async tick(now = new Date()): Promise<TickReport> {
    if (!(await this.lock.acquireOrRenew())) return { leader: false, created: 0, late: 0, reenqueued: 0 };
    const created = await this.scheduleRuns(now);
    const late = await this.markLateRuns(now);
    const reenqueued = await this.reconcile(now);
    if (created + late + reenqueued > 0) this.options.logger.info({ created, late, reenqueued }, "scheduler tick");
    return { leader: true, created, late, reenqueued };
  }

  /** Creates the due runs of every schedule within the horizon; returns how many were new. */
  async scheduleRuns(now = new Date()): Promise<number> {
    const { db } = this.options.database;
    const horizon = new Date(now.getTime() + (this.options.horizonMs ?? 3_600_000));
    const far = new Date(now.getTime() + 100 * 24 * 3_600_000);
    const enqueued: WithdrawnRun[] = [];
    deployments: for (const deployment of await listScheduledDeployments(db)) {
      for (const row of deployment.schedules) {
        if (!row.active) continue;
        const schedule: Schedule =
          row.cron !== null
            ? { cron: row.cron, timezone: row.timezone }
            : { intervalSeconds: row.intervalSeconds ?? 0, anchorDate: row.anchorDate, timezone: row.timezone };
        // At least minRuns ahead (even beyond the horizon, for daily schedules), never more than maxRuns.
        let times = dueTimes(schedule, now, horizon, this.options.maxRuns ?? 100);
        if (times.length < (this.options.minRuns ?? 3)) times = dueTimes(schedule, now, far, this.options.minRuns ?? 3);
        for (const scheduledTime of times) {
          const result = await this.createRun(deployment, scheduledTime, now);
          if (result === "deployment changed") continue deployments;
          if (result.created) {
            this.notices.written(result.flowRun);
            await this.enqueue(result.flowRun, deployment);
            enqueued.push(result.flowRun);
          }
        }
      }
    }
    await this.removeJobsOfWithdrawnRuns(enqueued);
    return enqueued.length;
  }

  /**
   * A run of the deployment as listed, or none when it has changed since (paused, rescheduled,
   * deleted): its runs then come from the next tick, which reads it again.
   */
  private async createRun(
    deployment: VersionedDeploymentSummary,
    scheduledTime: Date,
    now: Date,
  ): Promise<CreatedFlowRun | "deployment changed"> {
    const request = { scheduledTime, autoScheduled: true };
    try {
      return await createDeploymentFlowRun(this.options.database.db, deployment, request, now, {
        unchangedSince: deployment.rowVersion,
      });
    } catch (error) {
      if (error instanceof DeploymentChangedError) return "deployment changed";
      throw error;
    }
  }

  /**
   * Scheduled runs not started `lateAfterMs` after they were due become Late, as of that moment
   * (not of this tick): a worker may have started one since, its Pending and Running still on
   * their way to Postgres through the recorder, and they, being newer, then win over Late.
   */
  async markLateRuns(now = new Date()): Promise<number> {
    const { db } = this.options.database;
    const lateAfterMs = this.options.lateAfterMs ?? 15_000;
    const cutoff = new Date(now.getTime() - lateAfterMs);
    const due = sql<Date>`coalesce(${flowRuns.nextScheduledStartTime}, ${flowRuns.expectedStartTime})`;
    const overdue = await db
      .select({ id: flowRuns.id, due: due.mapWith(flowRuns.expectedStartTime) })
      .from(flowRuns)
      .where(and(eq(flowRuns.stateType, "SCHEDULED"), eq(flowRuns.stateName, "Scheduled"), lt(due, cutoff)))
      .limit(1000);
    let marked = 0;
    for (const run of overdue) {
      const result = await setFlowRunState(
        db,
        run.id,
        {
          type: "SCHEDULED",
          name: "Late",
          message: "Not started by a worker in time: is a worker running for its work pool?",
          scheduledTime: run.due, // still due when it was, as Prefect's Late keeps it
        },
        // Listed as Scheduled, but a worker may have taken it since, or another scheduler marked it.
        { now: new Date(run.due.getTime() + lateAfterMs), onlyFrom: "Scheduled" },
      );
      if (result?.status === "ACCEPT") {
        marked++;
        this.notices.written(result.flowRun);
      }
    }
    return marked;
  }

  /**
   * Re-enqueues Scheduled/Pending deployment runs whose job is missing from Redis: all of them, a
   * page at a time (by id), each page's jobs looked up in one round trip.
   */
  async reconcile(now = new Date()): Promise<number> {
    if (await this.recorderIsBehind()) return 0;
    const { db } = this.options.database;
    const pageSize = this.options.reconcilePageSize ?? 1000;
    const reenqueued: WithdrawnRun[] = [];
    const sources = new Map<string, RunSource | null>();
    for (let after: string | undefined; ; ) {
      const page = await db
        .select({ id: flowRuns.id, workPoolName: flowRuns.workPoolName })
        .from(flowRuns)
        .where(
          and(
            inArray(flowRuns.stateType, ["SCHEDULED", "PENDING"]),
            sql`${flowRuns.deploymentId} IS NOT NULL`,
            after === undefined ? undefined : gt(flowRuns.id, after),
          ),
        )
        .orderBy(asc(flowRuns.id))
        .limit(pageSize);
      for (const run of await getFlowRuns(db, await this.queues.missing(page))) {
        const deploymentId = run.deploymentId as string;
        if (!sources.has(deploymentId)) sources.set(deploymentId, await this.sourceOf(deploymentId));
        const source = sources.get(deploymentId);
        if (!source) continue;
        await this.queues.enqueue(flowRunJobOf(run, source, now), now.getTime());
        reenqueued.push(run);
        this.options.logger.warn({ flowRunId: run.id }, "re-enqueued a run missing from its queue");
      }
      after = page.at(-1)?.id;
      if (page.length < pageSize) break;
    }
    const removed = await this.removeJobsOfWithdrawnRuns(reenqueued);
    return reenqueued.length - removed;
  }

  /**
   * Whether Postgres may be behind what workers did. A run that ended on a worker reads Scheduled
   * or Pending there until the recorder has recorded its states, and by then its completed job may
   * be gone from Redis (kept an hour, but at most 10,000): after a Postgres outage with a backlog on
   * the stream, re-enqueueing such a run would run it a second time.
   */
  private async recorderIsBehind(): Promise<boolean> {
    const { redis, prefix, logger } = this.options;
    const keys = redisKeys(prefix);
    const { oldestUnackedSeconds } = await readEventStreamLag(redis, keys.eventStream, keys.recorderGroup);
    if (oldestUnackedSeconds * 1000 <= (this.options.reconcileMaxRecorderLagMs ?? 10_000)) return false;
    logger.warn(
      { recorderLagSeconds: Math.round(oldestUnackedSeconds) },
      "the recorder is behind: runs missing from Redis are re-enqueued once it has caught up",
    );
    return true;
  }

  /**
   * Removes the jobs just enqueued for runs deleted or cancelled meanwhile: a pause, a schedule
   * change, a DELETE or a cancel withdraws a run's job, and when it came between this scheduler's
   * read and its enqueue, the job would run a run that must not run. (A run that went on, started
   * by a worker that took the new job, keeps it.) Returns how many were removed.
   */
  private async removeJobsOfWithdrawnRuns(enqueued: WithdrawnRun[]): Promise<number> {
    if (enqueued.length === 0) return 0;
    const { rows } = await this.options.database.pool.query<{ id: string }>(
      "SELECT id FROM flow_runs WHERE id = ANY($1::uuid[]) AND state_type <> 'CANCELLED'",
      [enqueued.map((run) => run.id)],
    );
    const kept = new Set(rows.map((row) => row.id));
    const { removed, failed } = await this.queues.removeAll(enqueued.filter((run) => !kept.has(run.id)));
    const { logger } = this.options;
    for (const id of removed)
      logger.info({ flowRunId: id }, "removed the job of a run withdrawn while it was enqueued");
    for (const { id, error } of failed)
      logger.warn({ err: error, flowRunId: id }, "could not remove the job of a withdrawn run");
    return removed.size;
  }

  private async enqueue(run: Parameters<typeof flowRunJobOf>[0], deployment: DeploymentWithSchedules): Promise<void> {
    try {
      await this.queues.enqueue(flowRunJobOf(run, deployment));
    } catch (error) {
      this.options.logger.error({ err: error, flowRunId: run.id }, "enqueue failed; the reconciler will retry");
    }
  }

  private async sourceOf(deploymentId: string): Promise<RunSource | null> {
    const { rows } = await this.options.database.pool.query<{
      flow_name: string;
      entrypoint: string | null;
      concurrency_limit: number | null;
      collision_strategy: CollisionStrategy | null;
    }>(
      `SELECT f.name AS flow_name, d.entrypoint, d.concurrency_limit, d.collision_strategy
       FROM deployments d JOIN flows f ON f.id = d.flow_id WHERE d.id = $1`,
      [deploymentId],
    );
    const row = rows[0];
    return row
      ? {
          flowName: row.flow_name,
          entrypoint: row.entrypoint,
          concurrencyLimit: row.concurrency_limit,
          collisionStrategy: row.collision_strategy,
        }
      : null;
  }
}
