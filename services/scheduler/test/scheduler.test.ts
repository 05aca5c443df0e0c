import { randomUUID } from "node:crypto";
import type { StateEvent } from "@sluice/core";
import {
  createDatabase,
  type Database,
  ensureFlow,
  recordEvents,
  setDeploymentPaused,
  setFlowRunState,
  upsertDeployment,
} from "@sluice/db";
import { decodeEvents, EVENT_FIELD, ensureEventStreamGroup, FlowRunQueues, redisKeys } from "@sluice/queue";
import { createLogger } from "@sluice/telemetry";
import { createTestContext, type TestContext, waitFor } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Scheduler, type TickReport } from "../src/index.js";

const logger = createLogger({ service: "test", level: "silent" });
let ctx: TestContext;
let database: Database;
const schedulers: Scheduler[] = [];

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl, { max: 6 });
});
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.stop()));
  await database.close();
  await ctx.close();
});

function scheduler(options: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}): Scheduler {
  const created = new Scheduler({ database, redis: ctx.redis, prefix: ctx.prefix, logger, ...options });
  schedulers.push(created);
  return created;
}

async function deployment(schedule: { cron?: string; intervalSeconds?: number; timezone?: string }, paused = false) {
  const { flow } = await ensureFlow(database.db, { name: "ETL Pipeline" });
  const { deployment } = await upsertDeployment(database.db, {
    flowId: flow.id,
    name: "daily-etl",
    entrypoint: "etl_pipeline.ts:etlPipeline",
    parameters: { tableName: "users" },
    paused,
    schedules: [{ ...schedule, active: true }],
  });
  return deployment;
}

/** The live-view notices on the run event stream: "runId name" per state written. */
async function notices(): Promise<string[]> {
  const entries = await ctx.redis.xrange(redisKeys(ctx.prefix).eventStream, "-", "+");
  return entries
    .flatMap(([, fields]) => decodeEvents(fields[1] as string))
    .flatMap((event) => (event.kind === "state_written" ? [`${event.runId} ${event.name}`] : []));
}

/** Runs `action` (a user's pause, cancel, …) just before the scheduler's first call of queues[method]. */
function interleave(s: Scheduler, method: "enqueue" | "missing", action: () => Promise<void>): void {
  const queues = (s as unknown as { queues: FlowRunQueues }).queues;
  const original = queues[method].bind(queues) as (...args: unknown[]) => Promise<unknown>;
  let done = false;
  Object.assign(queues, {
    [method]: async (...args: unknown[]) => {
      if (!done) {
        done = true;
        await action();
      }
      return original(...args);
    },
  });
}

/** Pauses the deployment as the API does: its auto-scheduled runs are deleted. */
async function pause(deploymentId: string): Promise<void> {
  expect((await setDeploymentPaused(database.db, deploymentId, true))?.withdrawn).toHaveLength(1);
}

async function scheduledTimes(): Promise<string[]> {
  const { rows } = await database.pool.query<{ t: Date }>(
    "SELECT expected_start_time AS t FROM flow_runs WHERE auto_scheduled ORDER BY expected_start_time",
  );
  return rows.map((row) => row.t.toISOString());
}

describe("scheduler", () => {
  it("creates runs of a cron schedule in its time zone, across a DST change", async () => {
    await deployment({ cron: "0 6 * * *", timezone: "America/New_York" });
    const now = new Date("2026-03-06T12:00:00Z"); // DST starts in New York on 2026-03-08
    await scheduler({ minRuns: 4 }).tick(now);
    expect(await scheduledTimes()).toEqual([
      "2026-03-07T11:00:00.000Z", // 06:00 EST
      "2026-03-08T10:00:00.000Z", // 06:00 EDT
      "2026-03-09T10:00:00.000Z",
      "2026-03-10T10:00:00.000Z",
    ]);
  });

  it("enqueues each new run as a delayed job whose id is the run id", async () => {
    await deployment({ intervalSeconds: 600 });
    await scheduler({ minRuns: 2, horizonMs: 0 }).tick();
    const { rows } = await database.pool.query<{ id: string; state_name: string; work_pool_name: string }>(
      "SELECT id, state_name, work_pool_name FROM flow_runs",
    );
    expect(rows).toHaveLength(2);
    const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
    try {
      for (const row of rows) {
        expect(row.state_name).toBe("Scheduled");
        const job = await queues.queue(row.work_pool_name).getJob(row.id);
        expect(await job?.getState()).toBe("delayed");
        expect(job?.data).toMatchObject({
          entrypoint: "etl_pipeline.ts:etlPipeline",
          parameters: { tableName: "users" },
        });
      }
    } finally {
      await queues.close();
    }
  });

  it("two schedulers racing never create the same run twice", async () => {
    await deployment({ intervalSeconds: 60 });
    const now = new Date();
    // Both believe they may schedule (no leader lock in the way): the database must still hold.
    const a = scheduler();
    const b = scheduler();
    await Promise.all([a.scheduleRuns(now), b.scheduleRuns(now), a.scheduleRuns(now), b.scheduleRuns(now)]);
    const times = await scheduledTimes();
    expect(times.length).toBe(60);
    expect(new Set(times).size).toBe(times.length);
  });

  it("a tick that outlasts the interval is not joined by the next", async () => {
    const s = scheduler({ intervalMs: 20 });
    const tick = s.tick.bind(s);
    let active = 0;
    let most = 0;
    let ticks = 0;
    s.tick = async (now?: Date) => {
      active++;
      ticks++;
      most = Math.max(most, active);
      try {
        await new Promise((resolve) => setTimeout(resolve, 150)); // a slow database, say
        return await tick(now);
      } finally {
        active--;
      }
    };
    s.start();
    await waitFor("three ticks", async () => ticks >= 3, 5_000);
    expect(most).toBe(1);
  });

  it("only one scheduler is the leader at a time", async () => {
    const a = scheduler();
    const b = scheduler();
    const [first, second] = await Promise.all([a.tick(), b.tick()]);
    expect([first.leader, second.leader].sort()).toEqual([false, true]);
  });

  it("paused deployments get no new runs", async () => {
    await deployment({ intervalSeconds: 60 }, true);
    await scheduler().tick();
    expect(await scheduledTimes()).toEqual([]);
  });

  it("a deployment paused while a tick runs gets no runs from that tick", async () => {
    const { id } = await deployment({ intervalSeconds: 600 });
    // A pause as updateDeployment makes it, held open: the tick lists the deployment as it was,
    // unpaused, and its first insert must wait for the pause instead of slipping in before it.
    const pausing = await database.pool.connect();
    let tick: Promise<TickReport> | undefined;
    try {
      await pausing.query("BEGIN");
      await pausing.query("SELECT 1 FROM deployments WHERE id = $1 FOR UPDATE", [id]);
      await pausing.query("UPDATE deployments SET paused = true, updated = now() WHERE id = $1", [id]);
      await pausing.query("DELETE FROM flow_runs WHERE deployment_id = $1 AND auto_scheduled", [id]);
      tick = scheduler({ minRuns: 2, horizonMs: 0 }).tick();
      await waitFor(
        "the tick's insert to wait on the deployment's row",
        async () => {
          const { rows } = await database.pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO flow_runs%'`,
          );
          return rows[0]?.n === 1;
        },
        5_000,
      );
      await pausing.query("COMMIT");
      expect(await tick).toMatchObject({ leader: true, created: 0 });
    } finally {
      await pausing.query("ROLLBACK"); // a no-op after the commit; frees the tick when the wait failed
      pausing.release();
      await tick?.catch(() => {});
    }
    expect(await scheduledTimes()).toEqual([]);
    expect(await ctx.redis.keys(`${ctx.prefix}:*:delayed`)).toEqual([]);
  });

  it("a run withdrawn between its insert and its enqueue gets no job", async () => {
    const { id } = await deployment({ intervalSeconds: 3600 });
    const s = scheduler({ minRuns: 1, horizonMs: 0 });
    // The pause lands after the run's insert committed, before the scheduler enqueues it: the
    // pause's withdrawal finds no job to remove.
    interleave(s, "enqueue", () => pause(id));
    expect(await s.scheduleRuns()).toBe(1);
    expect(await scheduledTimes()).toEqual([]);
    expect(await ctx.redis.keys(`${ctx.prefix}:*:delayed`)).toEqual([]);
  });

  it("a run cancelled or deleted while the reconciler re-enqueues it gets no job back", async () => {
    const { id } = await deployment({ intervalSeconds: 3600 });
    const s = scheduler({ minRuns: 2, horizonMs: 0 });
    await s.scheduleRuns();
    const { rows } = await database.pool.query<{ id: string }>("SELECT id FROM flow_runs ORDER BY expected_start_time");
    const [first, second] = rows.map((row) => row.id) as [string, string];
    const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
    try {
      // As if Redis had lost both jobs.
      for (const runId of [first, second]) expect(await queues.remove("default-agent-pool", runId)).toBe(true);
      // After the reconciler read both runs as Scheduled, while it looks their jobs up: the first
      // is cancelled, then the deployment paused (the second deleted).
      interleave(s, "missing", async () => {
        expect((await setFlowRunState(database.db, first, { type: "CANCELLED" }))?.status).toBe("ACCEPT");
        await pause(id);
      });
      expect(await s.reconcile()).toBe(0);
      expect(await queues.has("default-agent-pool", first)).toBe(false);
      expect(await queues.has("default-agent-pool", second)).toBe(false);
    } finally {
      await queues.close();
    }
  });

  it("re-enqueues every run missing from Redis, however many, a page at a time", async () => {
    await deployment({ intervalSeconds: 600 });
    const s = scheduler({ minRuns: 5, horizonMs: 0, reconcilePageSize: 2 });
    expect(await s.scheduleRuns()).toBe(5);
    // As if Redis had restarted empty: drop every key of this test (never FLUSHDB: Redis is shared).
    await ctx.redis.del(...(await ctx.redis.keys(`${ctx.prefix}:*`)));
    expect(await s.reconcile()).toBe(5);
    const { rows } = await database.pool.query<{ id: string }>("SELECT id FROM flow_runs");
    const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
    try {
      const runs = [...rows.map((row) => row.id), randomUUID()].map((id) => ({
        id,
        workPoolName: "default-agent-pool",
      }));
      expect(await queues.missing(runs)).toHaveLength(1);
      expect(await s.reconcile()).toBe(0); // nothing missing any more
    } finally {
      await queues.close();
    }
  });

  it("marks runs not started in time Late, and re-enqueues runs missing from Redis", async () => {
    await deployment({ intervalSeconds: 3600 });
    const past = new Date(Date.now() - 3 * 3600_000);
    const s = scheduler({ minRuns: 1, horizonMs: 0 });
    await s.scheduleRuns(past); // due two hours ago
    // As if Redis had restarted empty: drop every key of this test (never FLUSHDB: Redis is shared).
    const keys = await ctx.redis.keys(`${ctx.prefix}:*`);
    if (keys.length > 0) await ctx.redis.del(...keys);
    const report = await s.tick();
    expect(report.late).toBeGreaterThanOrEqual(1);
    expect(report.reenqueued).toBeGreaterThanOrEqual(1);
    const { rows } = await database.pool.query<{ id: string; state_name: string }>(
      "SELECT id, state_name FROM flow_runs WHERE expected_start_time < now() ORDER BY expected_start_time LIMIT 1",
    );
    expect(rows[0]?.state_name).toBe("Late");
    const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
    try {
      expect(await queues.has("default-agent-pool", rows[0]?.id as string)).toBe(true);
    } finally {
      await queues.close();
    }
  });

  it("re-enqueues nothing while the recorder is behind: Postgres may not know yet that a run went on", async () => {
    const { eventStream, recorderGroup } = redisKeys(ctx.prefix);
    // Events a minute old that no recorder has recorded yet (Postgres was down, say).
    await ensureEventStreamGroup(ctx.redis, eventStream, recorderGroup);
    await ctx.redis.xadd(eventStream, `${Date.now() - 60_000}-0`, EVENT_FIELD, "[]");
    await deployment({ intervalSeconds: 3600 });
    const s = scheduler({ minRuns: 1, horizonMs: 0, reconcileMaxRecorderLagMs: 10_000 });
    await s.scheduleRuns(new Date(Date.now() + 3600_000));
    const { rows } = await database.pool.query<{ id: string }>("SELECT id FROM flow_runs");
    const id = rows[0]?.id as string;
    const queues = new FlowRunQueues(ctx.redis, ctx.prefix);
    try {
      // It ran and its job was trimmed away, while its states wait on the stream.
      await queues.remove("default-agent-pool", id);
      expect(await s.reconcile()).toBe(0);
      expect(await queues.has("default-agent-pool", id)).toBe(false);

      // Once the recorder has caught up, Postgres is current: the run really is missing its job.
      const read = (await ctx.redis.xreadgroup("GROUP", recorderGroup, "recorder", "STREAMS", eventStream, ">")) as [
        string,
        [string, string[]][],
      ][];
      await ctx.redis.xack(eventStream, recorderGroup, ...(read[0]?.[1] ?? []).map(([entryId]) => entryId));
      expect(await s.reconcile()).toBe(1);
      expect(await queues.has("default-agent-pool", id)).toBe(true);
    } finally {
      await queues.close();
    }
  });

  it("a run a worker started late, but before the scheduler marked it Late, ends Running", async () => {
    await deployment({ intervalSeconds: 3600 });
    const s = scheduler({ minRuns: 1, horizonMs: 0 });
    await s.scheduleRuns(new Date(Date.now() - 3 * 3600_000)); // due hours ago
    const { rows } = await database.pool.query<{ id: string; due: Date }>(
      "SELECT id, expected_start_time AS due FROM flow_runs",
    );
    const { id, due } = rows[0] as { id: string; due: Date };
    // A worker took it a minute after it was due; its Pending and Running reach Postgres (through
    // the recorder) only after the scheduler's tick has read the run as Scheduled and marked it.
    expect(await s.markLateRuns()).toBe(1);
    const started = due.getTime() + 60_000;
    const state = (type: "PENDING" | "RUNNING", at: number, runCount: number): StateEvent => ({
      kind: "state",
      id: randomUUID(),
      runKind: "flow_run",
      runId: id,
      timestamp: new Date(at).toISOString(),
      type,
      name: type === "PENDING" ? "Pending" : "Running",
      message: null,
      runCount,
    });
    await recordEvents(database, [state("PENDING", started, 0), state("RUNNING", started + 1, 1)]);
    const { rows: after } = await database.pool.query<{ state_name: string; name: string; scheduled_time: Date }>(
      `SELECT r.state_name, s.name, s.scheduled_time FROM flow_runs r
       JOIN flow_run_states s ON s.flow_run_id = r.id WHERE s.name = 'Late'`,
    );
    expect(after).toEqual([{ state_name: "Running", name: "Late", scheduled_time: due }]);
  });

  it("two schedulers marking at once (one's tick outlasting its lease) mark each overdue run Late once", async () => {
    await deployment({ intervalSeconds: 60 });
    const [a, b] = [scheduler({ minRuns: 5, horizonMs: 0 }), scheduler()];
    await a.scheduleRuns(new Date(Date.now() - 3 * 3600_000)); // 5 runs, due hours ago
    const [byA, byB] = await Promise.all([a.markLateRuns(), b.markLateRuns()]);
    expect(byA + byB).toBe(5);
    const { rows } = await database.pool.query<{ state_name: string; late: number }>(
      `SELECT r.state_name, count(*) FILTER (WHERE s.name = 'Late')::int AS late
       FROM flow_runs r JOIN flow_run_states s ON s.flow_run_id = r.id GROUP BY r.id`,
    );
    expect(rows).toEqual(Array.from({ length: 5 }, () => ({ state_name: "Late", late: 1 })));
  });

  it("tells live views of the runs it creates and marks Late", async () => {
    await deployment({ intervalSeconds: 3600 });
    const s = scheduler({ minRuns: 3, horizonMs: 0 });
    await s.scheduleRuns(new Date(Date.now() - 3 * 3600_000)); // the first ones due hours ago
    await s.markLateRuns();
    const { rows } = await database.pool.query<{ id: string; state_name: string }>(
      "SELECT id, state_name FROM flow_runs ORDER BY expected_start_time",
    );
    const late = rows.filter((row) => row.state_name === "Late");
    expect(late.length).toBeGreaterThanOrEqual(1);
    await expect
      .poll(notices)
      .toEqual([...rows.map((row) => `${row.id} Scheduled`), ...late.map((row) => `${row.id} Late`)]);
  });
});
