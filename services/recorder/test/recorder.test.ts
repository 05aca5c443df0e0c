import { randomUUID } from "node:crypto";
import type { RunEvent, StateName } from "@sluice/core";
import { stateTypeOf } from "@sluice/core";
import {
  createDatabase,
  type Database,
  getFlowRun,
  getTaskRun,
  listFlowRuns,
  listLogs,
  withDatabaseName,
} from "@sluice/db";
import { EVENT_FIELD, encodeEvents, isRecordedUpTo, RedisEventSink, type RedisKeys, redisKeys } from "@sluice/queue";
import { Recorder, type RecorderOptions } from "@sluice/recorder";
import { createTestContext, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let ctx: TestContext;
let database: Database;
let keys: RedisKeys;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  ctx = await createTestContext();
  database = createDatabase(ctx.databaseUrl);
  keys = redisKeys(ctx.prefix);
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await database.close();
  await ctx.close();
});

function recorder(options: Partial<RecorderOptions> = {}): Recorder {
  const instance = new Recorder({
    redis: ctx.redis,
    db: database,
    keys,
    consumerName: `recorder-${randomUUID().slice(0, 8)}`,
    blockMs: 50,
    retryDelayMs: 20,
    maxRetryDelayMs: 100,
    ...options,
  });
  cleanups.push(() => instance.stop());
  return instance;
}

async function waitFor<T>(check: () => Promise<T> | T, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const at = (ms: number) => new Date(Date.parse("2030-01-01T00:00:00Z") + ms).toISOString();

/** A flow run that completes, with `tasks` completed task runs and a log line each. */
function flowRunEvents(tasks = 3): { events: RunEvent[]; flowRunId: string; taskRunIds: string[] } {
  const flowRunId = randomUUID();
  const stateOf = (runKind: "flow_run" | "task_run", runId: string, name: StateName, ms: number, data?: unknown) =>
    ({
      kind: "state",
      id: randomUUID(),
      runKind,
      runId,
      timestamp: at(ms),
      type: stateTypeOf(name),
      name,
      message: null,
      runCount: name === "Pending" ? 0 : 1,
      data,
    }) satisfies RunEvent;
  const events: RunEvent[] = [
    {
      kind: "flow_run_created",
      id: randomUUID(),
      timestamp: at(0),
      flowRun: {
        id: flowRunId,
        name: "quiet-heron",
        flowId: randomUUID(),
        flowName: "pipeline",
        deploymentId: null,
        parentTaskRunId: null,
        parameters: {},
        tags: [],
        expectedStartTime: at(0),
        workPoolName: null,
        workQueueName: null,
      },
    },
    stateOf("flow_run", flowRunId, "Pending", 1),
    stateOf("flow_run", flowRunId, "Running", 2),
  ];
  const taskRunIds: string[] = [];
  for (let i = 0; i < tasks; i++) {
    const taskRunId = randomUUID();
    taskRunIds.push(taskRunId);
    events.push(
      {
        kind: "task_run_created",
        id: randomUUID(),
        timestamp: at(10 + i),
        taskRun: {
          id: taskRunId,
          name: `step-${i}`,
          flowRunId,
          taskKey: "step",
          dynamicKey: String(i),
          cacheKey: null,
          cacheExpiration: null,
          tags: [],
          taskInputs: {},
          expectedStartTime: at(10 + i),
        },
      },
      stateOf("task_run", taskRunId, "Running", 11 + i),
      {
        kind: "log",
        id: randomUUID(),
        timestamp: at(12 + i),
        flowRunId,
        taskRunId,
        name: "sluice.task_runs",
        level: "INFO",
        message: `step ${i}`,
      },
      stateOf("task_run", taskRunId, "Completed", 13 + i, i),
    );
  }
  events.push(stateOf("flow_run", flowRunId, "Completed", 100, "done"));
  return { events, flowRunId, taskRunIds };
}

/** One stream entry per event (`batched`: as producers do, the events of a tick share entries). */
async function emit(events: RunEvent[], { batched = false } = {}): Promise<string> {
  const sink = new RedisEventSink(ctx.redis, keys.eventStream);
  for (const event of events) {
    sink.emit(event);
    if (!batched) await sink.flush();
  }
  await sink.flush();
  if (!sink.lastId) throw new Error("nothing emitted");
  return sink.lastId;
}

/** One stream entry per events array, all added in one MULTI: a backlog that is there at once. */
async function addEntriesAtOnce(entries: RunEvent[][]): Promise<string> {
  const multi = ctx.redis.multi();
  for (const events of entries) multi.xadd(keys.eventStream, "*", EVENT_FIELD, encodeEvents(events));
  const added = (await multi.exec()) ?? [];
  return String(added.at(-1)?.[1]);
}

async function pendingCount(): Promise<number> {
  const [count] = (await ctx.redis.xpending(keys.eventStream, keys.recorderGroup)) as [number];
  return Number(count);
}

const recordedUpTo = (lastId: string) => isRecordedUpTo(ctx.redis, keys.eventStream, keys.recorderGroup, lastId);

describe("Recorder", () => {
  it("drains the event stream into Postgres, acknowledges and trims what it recorded", async () => {
    const runs = Array.from({ length: 30 }, () => flowRunEvents(3));
    const events = runs.flatMap((run) => run.events);
    const rec = recorder({ batchSize: 64, trimIntervalMs: 50 });
    await rec.start();
    const lastId = await emit(events, { batched: true });
    // 330 events emitted in one tick: a couple of entries of at most 200 events each.
    const entries = Math.ceil(events.length / 200);

    await waitFor(() => recordedUpTo(lastId), "the recorder to reach the last event");
    for (const { flowRunId, taskRunIds } of runs) {
      expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED", result: "done" });
      for (const id of taskRunIds) expect(await getTaskRun(database.db, id)).toMatchObject({ stateType: "COMPLETED" });
    }
    expect(await listLogs(database.db, { flowRunId: runs[0]?.flowRunId })).toHaveLength(3);
    expect(rec.stats).toMatchObject({
      eventsRecorded: events.length,
      entriesAcked: entries,
      entriesDeadLettered: 0,
    });
    expect(await pendingCount()).toBe(0);
    // The stream can be seen empty before the recorder has read XTRIM's reply and counted it.
    await waitFor(
      async () => rec.stats.entriesTrimmed >= entries && (await ctx.redis.xlen(keys.eventStream)) === 0,
      "the stream to be trimmed",
    );
    expect(rec.stats.entriesTrimmed).toBe(entries);

    // Still draining: new events after a trim are recorded too.
    const more = flowRunEvents(1);
    const moreId = await emit(more.events);
    await waitFor(() => recordedUpTo(moreId), "the second wave");
    expect(await getFlowRun(database.db, more.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    await rec.stop();
    expect(rec.isRunning).toBe(false);
  });

  it("acknowledges only after the commit: while Postgres is unusable entries stay pending, then a live recorder records them", async () => {
    const broken = createDatabase(withDatabaseName(ctx.databaseUrl, `${ctx.prefix}_missing`));
    cleanups.push(() => broken.close());
    const failing = recorder({ db: broken, consumerName: "failing" });
    await failing.start();
    const { events, flowRunId } = flowRunEvents(2);
    // One entry holding every event, as a producer writes them.
    const lastId = await emit(events, { batched: true });

    await waitFor(() => failing.stats.recordFailures >= 3, "a few failed attempts");
    expect(await pendingCount()).toBe(1);
    expect(failing.stats).toMatchObject({ eventsRecorded: 0, entriesAcked: 0 });
    expect(await recordedUpTo(lastId)).toBe(false);
    // stop() returns even though the batch in hand cannot be written; the batch stays pending.
    await failing.stop();
    expect(await pendingCount()).toBe(1);
    expect(await listFlowRuns(database.db)).toHaveLength(0);

    const healthy = recorder({ consumerName: "healthy", claimMinIdleMs: 100, claimIntervalMs: 50 });
    await healthy.start();
    await waitFor(() => recordedUpTo(lastId), "the healthy recorder to take over the pending entries");
    expect(healthy.stats.entriesReclaimed).toBe(1);
    expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(await pendingCount()).toBe(0);
  });

  it("stopped in the middle of a backlog, leaves nothing it read unrecorded: the batch read ahead is recorded too", async () => {
    const runs = Array.from({ length: 40 }, () => flowRunEvents(1));
    // One entry per run, and one entry per transaction: forty batches, each read ahead of the one before.
    const sink = new RedisEventSink(ctx.redis, keys.eventStream);
    for (const run of runs) {
      for (const event of run.events) sink.emit(event);
      await sink.flush();
    }
    const lastId = sink.lastId ?? "";
    const first = recorder({ batchSize: 1, consumerName: "first" });
    await first.start();
    await waitFor(() => first.stats.entriesAcked >= 5, "a few batches recorded");
    await first.stop();
    // Whatever it read (acknowledged or not) is recorded, and nothing it read is left pending.
    expect(await pendingCount()).toBe(0);
    const recorded = first.stats.entriesAcked;
    expect(recorded).toBeLessThan(runs.length);
    for (const run of runs.slice(0, recorded))
      expect(await getFlowRun(database.db, run.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(await getFlowRun(database.db, runs[recorded]?.flowRunId ?? "")).toBeNull();

    const second = recorder({ batchSize: 1, consumerName: "second" });
    await second.start();
    await waitFor(() => recordedUpTo(lastId), "the second recorder to record the rest");
    for (const run of runs) {
      expect(await getFlowRun(database.db, run.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
      expect(await getTaskRun(database.db, run.taskRunIds[0] ?? "")).toMatchObject({ stateType: "COMPLETED" });
    }
    expect(first.stats.entriesAcked + second.stats.entriesAcked).toBe(runs.length);
  });

  it("records a backlog of big entries (a .map()'s) in transactions of about eventsPerRead events, one after the other", async () => {
    const rec = recorder({ eventsPerRead: 200 });
    await rec.start();
    // One entry of 44 events first: the recorder learns how big entries are.
    const firstId = await emit(flowRunEvents(10).events, { batched: true });
    await waitFor(() => recordedUpTo(firstId), "the first entry");
    const batchesBefore = rec.stats.batchesRecorded;
    // Then 30 such entries at once (one MULTI): reads of 5 entries (220 events) each, not all 30 in one.
    const runs = Array.from({ length: 30 }, () => flowRunEvents(10));
    const lastId = await addEntriesAtOnce(runs.map((run) => run.events));
    await waitFor(() => recordedUpTo(lastId), "the backlog to be recorded");
    expect(rec.stats.batchesRecorded - batchesBefore).toBeGreaterThanOrEqual(6);
    for (const run of runs) {
      expect(await getFlowRun(database.db, run.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
      expect(await getTaskRun(database.db, run.taskRunIds[9] ?? "")).toMatchObject({ stateType: "COMPLETED" });
    }
    expect(await pendingCount()).toBe(0);
  });

  it("started (or restarted) into a backlog of big entries, records it in transactions of about eventsPerRead events too", async () => {
    const runs = Array.from({ length: 30 }, () => flowRunEvents(10));
    const lastId = await addEntriesAtOnce(runs.map((run) => run.events));
    const rec = recorder({ eventsPerRead: 200 });
    await rec.start();
    await waitFor(() => recordedUpTo(lastId), "the backlog to be recorded");
    // The first read takes one entry; each after it about 5 (220 events), not all 30 at once.
    expect(rec.stats.batchesRecorded).toBeGreaterThanOrEqual(7);
    for (const run of runs)
      expect(await getFlowRun(database.db, run.flowRunId)).toMatchObject({ stateType: "COMPLETED" });
  });

  it("resumes its own pending entries right away when restarted under the same name", async () => {
    const { events, flowRunId } = flowRunEvents(1);
    const lastId = await emit(events);
    // A recorder that read the entries and died before recording them.
    await ctx.redis.xgroup("CREATE", keys.eventStream, keys.recorderGroup, "0", "MKSTREAM");
    await ctx.redis.xreadgroup(
      "GROUP",
      keys.recorderGroup,
      "worker-1",
      "COUNT",
      1000,
      "STREAMS",
      keys.eventStream,
      ">",
    );
    expect(await pendingCount()).toBe(events.length);

    const restarted = recorder({ consumerName: "worker-1", claimMinIdleMs: 60_000 });
    await restarted.start();
    await waitFor(() => recordedUpTo(lastId), "the restarted recorder to record its pending entries");
    expect(restarted.stats.entriesReclaimed).toBe(0);
    expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED" });
  });

  it("moves entries that can never be recorded to a dead-letter stream and records the rest", async () => {
    const rec = recorder();
    await rec.start();
    const { events, flowRunId } = flowRunEvents(2);
    await ctx.redis.xadd(keys.eventStream, "*", EVENT_FIELD, "{not json");
    // JSON, but not the event it says it is (a creation without its run).
    const malformed = JSON.stringify([{ kind: "flow_run_created", id: "x", timestamp: at(0) }]);
    await ctx.redis.xadd(keys.eventStream, "*", EVENT_FIELD, malformed);
    const badState = { ...events[1], runId: "not-a-uuid" } as RunEvent;
    await emit([events[0] as RunEvent, badState]);
    const lastId = await emit(events.slice(1));

    await waitFor(() => recordedUpTo(lastId), "every entry to be acknowledged");
    expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    expect(rec.stats.entriesDeadLettered).toBe(3);
    const dead = await ctx.redis.xrange(`${keys.eventStream}:dead`, "-", "+");
    expect(dead.map(([, fields]) => fields[1])).toEqual(["{not json", malformed, JSON.stringify(badState)]);
    expect(dead[1]?.[1][5]).toMatch(/^malformed: /);
    expect(await pendingCount()).toBe(0);
  });

  it("splits what it reads over several transactions when the events are big (cached batches)", async () => {
    const { events, flowRunId, taskRunIds } = flowRunEvents(3);
    // Each task's result cached: about 200 KB of JSON apiece, one stream entry each.
    const rows = (i: number) => Array.from({ length: 2000 }, (_, row) => ({ row, task: i, text: "x".repeat(80) }));
    const cacheEntries: RunEvent[] = taskRunIds.map((taskRunId, i) => ({
      kind: "cache_entry",
      id: randomUUID(),
      timestamp: at(200 + i),
      cacheKey: `key-${i}`,
      taskRunId,
      expiresAt: null,
      result: rows(i),
    }));
    const lastId = await emit([...events, ...cacheEntries]);
    // Started afterwards: its first read takes one entry (one transaction), its second every other
    // entry, 15 small ones and 3 big ones, recorded in 3 transactions.
    const rec = recorder({ maxTransactionChars: 300_000 });
    await rec.start();

    await waitFor(() => recordedUpTo(lastId), "every entry to be recorded");
    expect(rec.stats).toMatchObject({ batchesRecorded: 4, recordFailures: 0, entriesDeadLettered: 0 });
    expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED" });
    const cached = await database.pool.query<{ cache_key: string; result: unknown }>(
      "SELECT cache_key, result FROM task_cache ORDER BY cache_key",
    );
    expect(cached.rows).toEqual(taskRunIds.map((_, i) => ({ cache_key: `key-${i}`, result: rows(i) })));
  });

  it("does not trim entries another consumer group has not read yet", async () => {
    await ctx.redis.xgroup("CREATE", keys.eventStream, "ui-feed", "0", "MKSTREAM");
    const rec = recorder({ trimIntervalMs: 20 });
    await rec.start();
    const { events } = flowRunEvents(1);
    const lastId = await emit(events);
    await waitFor(() => recordedUpTo(lastId), "recording");
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await ctx.redis.xlen(keys.eventStream)).toBe(events.length);

    // Once the other group has read and acknowledged half of them, that half goes.
    const half = Math.floor(events.length / 2);
    const read = (await ctx.redis.xreadgroup(
      "GROUP",
      "ui-feed",
      "ui",
      "COUNT",
      half,
      "STREAMS",
      keys.eventStream,
      ">",
    )) as [string, [string, string[]][]][];
    const ids = read[0]?.[1].map(([id]) => id) ?? [];
    await ctx.redis.xack(keys.eventStream, "ui-feed", ...ids);
    await waitFor(async () => (await ctx.redis.xlen(keys.eventStream)) === events.length - half, "a partial trim");
  });

  it("stops promptly while waiting for events, and a stopped recorder can be stopped again", async () => {
    const rec = recorder({ blockMs: 500 });
    await rec.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await rec.stop();
    expect(Date.now() - started).toBeLessThan(1_500);
    await rec.stop();
    expect(rec.isRunning).toBe(false);
  });

  it("shares the stream with another recorder: runs whose creation and later states each recorder reads are right", async () => {
    // Two servers, or `sluice run` beside one: a task run's creation comes from the flow's worker,
    // its Running and Completed from the worker that ran it, in entries of their own.
    const [first, second] = [recorder({ batchSize: 1 }), recorder({ batchSize: 1 })];
    await Promise.all([first.start(), second.start()]);
    const runs = Array.from({ length: 10 }, () => flowRunEvents(20));
    const isLater = (event: RunEvent) => event.kind === "state" && event.name !== "Pending";
    let lastId = "";
    for (const { events } of runs) {
      await emit(
        events.filter((event) => !isLater(event)),
        { batched: true },
      );
      lastId = await emit(events.filter(isLater), { batched: true });
    }
    await waitFor(() => recordedUpTo(lastId), "both recorders to reach the last event");
    expect(first.stats.batchesRecorded).toBeGreaterThan(0);
    expect(second.stats.batchesRecorded).toBeGreaterThan(0);
    for (const { flowRunId, taskRunIds } of runs) {
      expect(await getFlowRun(database.db, flowRunId)).toMatchObject({ stateType: "COMPLETED", result: "done" });
      for (const id of taskRunIds) expect(await getTaskRun(database.db, id)).toMatchObject({ stateType: "COMPLETED" });
    }
  });

  it("writes a replayed stream (duplicated entries) without changing the rows", async () => {
    const { events, flowRunId } = flowRunEvents(2);
    const rec = recorder();
    await rec.start();
    const first = await emit(events);
    await waitFor(() => recordedUpTo(first), "first delivery");
    const before = await getFlowRun(database.db, flowRunId);
    const second = await emit([...events].reverse());
    await waitFor(() => recordedUpTo(second), "the replay");
    expect(await getFlowRun(database.db, flowRunId)).toEqual(before);
    expect(rec.stats.eventsRecorded).toBe(events.length * 2);
  });
});
