import { createTestContext, type TestContext } from "@sluice/testing";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeEvents, RedisEventSink, RunStateNotices, redisKeys } from "../src/index.js";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(() => ctx.close());

const run = (id: string) => ({
  id,
  stateType: "SCHEDULED" as const,
  stateName: "Scheduled",
  stateTimestamp: new Date("2026-11-26T06:00:00Z"),
});

describe("run state notices", () => {
  it("put the states written elsewhere on the run event stream, one entry per tick", async () => {
    const notices = new RunStateNotices(ctx.redis, ctx.prefix);
    notices.written(run("run-1"));
    notices.written(run("run-2"));
    await notices.flush();
    const entries = await ctx.redis.xrange(redisKeys(ctx.prefix).eventStream, "-", "+");
    expect(entries).toHaveLength(1);
    const events = entries.flatMap(([, fields]) => decodeEvents(fields[1] as string));
    expect(events).toEqual([
      expect.objectContaining({ kind: "state_written", runKind: "flow_run", runId: "run-1", name: "Scheduled" }),
      expect.objectContaining({ kind: "state_written", runId: "run-2", timestamp: "2026-11-26T06:00:00.000Z" }),
    ]);
  });

  it("are dropped while Redis is unreachable: flushing them never fails, as run events do", async () => {
    const away = new Redis("redis://127.0.0.1:1", {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    away.on("error", () => {});
    try {
      const notices = new RunStateNotices(away, ctx.prefix);
      for (let i = 0; i < 100; i++) notices.written(run(`run-${i}`));
      await expect(notices.flush()).resolves.toBeUndefined();

      const events = new RedisEventSink(away, "events");
      events.emit({
        kind: "state_written",
        id: "e1",
        timestamp: "",
        runKind: "flow_run",
        runId: "r",
        type: "SCHEDULED",
        name: "Scheduled",
      });
      await expect(events.flush({ attempts: 1, retryDelayMs: 1 })).rejects.toThrow(/Could not write 1 run events/);
    } finally {
      away.disconnect();
    }
  });
});
