/**
 * Recorder throughput: how many run events per second the recorder drains from the Redis stream
 * into Postgres. Fills the stream first (task runs with Pending → Running → Completed and a log
 * line each), then times one recorder draining it.
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

const redis = new Redis(redisUrl);
await migrateDatabase(databaseUrl);
const database = createDatabase(databaseUrl);
try {
  const flowRunId = randomUUID();
  const base = Date.now();
  let total = 0;
  let lastId = "0-0";
  for (let start = 0; start < taskRuns; start += 1000) {
    const pipeline = redis.pipeline();
    for (let i = start; i < Math.min(taskRuns, start + 1000); i++) {
      for (const event of eventsForTaskRun(flowRunId, i, base)) {
        pipeline.xadd(keys.eventStream, "*", EVENT_FIELD, encodeEvents([event]));
        total++;
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    lastId = String(replies.at(-1)?.[1] ?? lastId);
  }
  process.stdout.write(`stream filled: ${total} events for ${taskRuns} task runs\n`);
  const recorder = new Recorder({ redis, db: database, keys, consumerName: "bench", blockMs: 50 });
  const started = performance.now();
  await recorder.start();
  while (!(await isRecordedUpTo(redis, keys.eventStream, keys.recorderGroup, lastId))) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  await recorder.stop();
  const { rows } = await database.pool.query("SELECT count(*)::int AS n FROM task_runs WHERE state_name = 'Completed'");
  process.stdout.write(
    `recorded ${total} events in ${seconds.toFixed(2)} s: ${Math.round(total / seconds)} events/s ` +
      `(${Math.round((taskRuns * 3) / seconds)} state events/s; ${rows[0].n} task runs Completed)\n`,
  );
} finally {
  await database.close();
  await redis.del(keys.eventStream);
  redis.disconnect();
  await dropDatabase(databaseUrl);
}
