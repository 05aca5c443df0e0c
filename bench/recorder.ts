/**
 * Recorder throughput: how many run events per second the recorder drains from the Redis stream
 * into Postgres. Fills the stream first (task runs with Pending → Running → Completed and a log
 * line each), then times one recorder draining it; once with one event per entry, once with
 * entries as workers write them (see SHAPES).
 *
 *   npm run bench:recorder -- [taskRuns=20000]
 */
import { randomUUID } from "node:crypto";
import { newRowId, type RunEvent, type StateName } from "@sluice/core";
import { createDatabase, dropDatabase, migrateDatabase } from "@sluice/db";
import { EVENT_FIELD, encodeEvents, isRecordedUpTo, redisKeys } from "@sluice/queue";
import { Recorder } from "@sluice/recorder";
import { Redis } from "ioredis";

const taskRuns = Number(process.argv[2] ?? 20_000);
const redisUrl = process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379";
const serverUrl = process.env.SLUICE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/sluice";
const suffix = randomUUID().slice(0, 8);
const databaseUrl = serverUrl.replace(/\/[^/?]*(\?|$)/, `/sluice_bench_${suffix}$1`);
const keys = redisKeys(`bench_${suffix}`);

function eventsForTaskRun(flowRunId: string, index: number, base: number): RunEvent[] {
  const id = randomUUID();
  const at = (offset: number) => new Date(base + index + offset).toISOString();
  const state = (name: StateName, type: "PENDING" | "RUNNING" | "COMPLETED", offset: number): RunEvent => ({
    kind: "state",
    id: newRowId(),
    runKind: "task_run",
    runId: id,
    timestamp: at(offset),
    type,
    name,
    message: null,
    runCount: type === "PENDING" ? 0 : 1,
    data: type === "COMPLETED" ? index : undefined,
  });
  return [
    {
      kind: "task_run_created",
      id: newRowId(),
      timestamp: at(0),
      taskRun: {
        id,
        name: `noop-${index}`,
        flowRunId,
        taskKey: "noop",
        dynamicKey: String(index),
        cacheKey: null,
        cacheExpiration: null,
        tags: [],
        taskInputs: { 0: index },
        expectedStartTime: at(0),
      },
    },
    state("Pending", "PENDING", 0),
    state("Running", "RUNNING", 1),
    {
      kind: "log",
      id: newRowId(),
      timestamp: at(1),
      flowRunId,
      taskRunId: id,
      name: "bench",
      level: "INFO",
      message: `item ${index}`,
    },
    state("Completed", "COMPLETED", 2),
  ];
}

/**
 * How the stream is filled and read: one event per entry, or entries as a busy worker writes them
 * (its event sink puts up to 200 events, 40 task runs, in one entry) read 75 at a time, about what
 * a recorder keeping up with a 20,000-run `.map()` finds at each read, so it records in
 * transactions of about 3,000 runs and reads ahead of each one.
 */
const SHAPES = [
  { label: "one event per entry", eventsPerEntry: 1, batchSize: 1000 },
  { label: "200 events per entry, 75 entries per read", eventsPerEntry: 200, batchSize: 75 },
];

const redis = new Redis(redisUrl);
await migrateDatabase(databaseUrl);
const database = createDatabase(databaseUrl);
try {
  for (const shape of SHAPES) {
    await database.pool.query("TRUNCATE flow_runs, flow_run_states, task_runs, task_run_states, logs");
    const { total, lastId } = await fillStream(shape.eventsPerEntry);
    const recorder = new Recorder({
      redis,
      db: database,
      keys,
      consumerName: "bench",
      blockMs: 50,
      batchSize: shape.batchSize,
    });
    const started = performance.now();
    await recorder.start();
    while (!(await isRecordedUpTo(redis, keys.eventStream, keys.recorderGroup, lastId))) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    await recorder.stop();
    await redis.del(keys.eventStream);
    const { rows } = await database.pool.query(
      "SELECT count(*)::int AS n FROM task_runs WHERE state_name = 'Completed'",
    );
    process.stdout.write(
      `${shape.label}: recorded ${total} events in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} events/s ` +
        `(${Math.round((taskRuns * 3) / seconds)} state events/s, ${Math.round((seconds * 1e6) / taskRuns)} µs per task run; ` +
        `${rows[0].n} task runs Completed)\n`,
    );
  }
} finally {
  await database.close();
  await redis.del(keys.eventStream);
  redis.disconnect();
  await dropDatabase(databaseUrl);
}

/** Writes every task run's events to the stream, `eventsPerEntry` to an entry. */
async function fillStream(eventsPerEntry: number): Promise<{ total: number; lastId: string }> {
  const flowRunId = randomUUID();
  const base = Date.now();
  let total = 0;
  let lastId = "0-0";
  let entry: RunEvent[] = [];
  for (let start = 0; start < taskRuns; start += 1000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(taskRuns, start + 1000); i++) {
      for (const event of eventsForTaskRun(flowRunId, i, base)) {
        entry.push(event);
        total++;
        if (entry.length === eventsPerEntry) {
          pipeline.xadd(keys.eventStream, "*", EVENT_FIELD, encodeEvents(entry));
          entry = [];
        }
      }
    }
    if (entry.length > 0 && start + 1000 >= taskRuns) {
      pipeline.xadd(keys.eventStream, "*", EVENT_FIELD, encodeEvents(entry));
      entry = [];
    }
    const replies = (await pipeline.exec()) ?? [];
    lastId = String(replies.at(-1)?.[1] ?? lastId);
  }
  process.stdout.write(`stream filled: ${total} events for ${taskRuns} task runs, ${eventsPerEntry} per entry\n`);
  return { total, lastId };
}
