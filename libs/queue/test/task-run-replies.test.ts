import { createTestContext, type TestContext } from "@sluice/testing";
import type { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalReplies, redisKeys, TaskRunReplyReader, TaskRunReplySender } from "../src/index.js";

let ctx: TestContext;
let readerConnection: Redis;
let reader: TaskRunReplyReader;
beforeEach(async () => {
  ctx = await createTestContext();
  readerConnection = ctx.redis.duplicate();
  reader = new TaskRunReplyReader(readerConnection, redisKeys(ctx.prefix).taskRunReplies("flow-process-1"));
});
afterEach(async () => {
  reader.close();
  readerConnection.disconnect();
  await ctx.close();
});

describe("task-run replies", () => {
  it("wake each waiting submitter with its own result or error, and are trimmed once read", async () => {
    const sender = new TaskRunReplySender(ctx.redis);
    const results = ["a", "b", "c"].map((id) => reader.wait<string>(id));
    const failed = reader.wait("d");
    await Promise.all([
      sender.send(reader.stream, { taskRunId: "b", ok: true, value: "B" }),
      sender.send(reader.stream, { taskRunId: "a", ok: true, value: "A" }),
      sender.send(reader.stream, { taskRunId: "c", ok: true, value: "C" }),
      sender.send(reader.stream, { taskRunId: "d", ok: false, error: { name: "ValueError", message: "bad row 7" } }),
    ]);
    expect(await Promise.all(results)).toEqual(["A", "B", "C"]);
    await expect(failed).rejects.toMatchObject({ name: "ValueError", message: "bad row 7" });
    // Read entries are trimmed away (the last one stays as the read position).
    expect(await ctx.redis.xlen(reader.stream)).toBeLessThanOrEqual(1);
    expect(reader.waiting).toBe(0);
  });

  it("go out one at a time when idle, and while one is on its way the others wait and go as one entry", async () => {
    const sender = new TaskRunReplySender(ctx.redis);
    const stream = redisKeys(ctx.prefix).taskRunReplies("no-reader");
    // Idle: a lone reply is written at once, not held for others.
    await sender.send(stream, { taskRunId: "lone", ok: true, value: 0 });
    expect(await ctx.redis.xlen(stream)).toBe(1);
    // Busy: the first goes at once, the three sent while it is on its way follow in one entry.
    await Promise.all(["a", "b", "c", "d"].map((id, value) => sender.send(stream, { taskRunId: id, ok: true, value })));
    const entries = await ctx.redis.xrange(stream, "-", "+");
    expect(entries.map(([, fields]) => JSON.parse(fields[1] ?? "null"))).toEqual([
      { taskRunId: "lone", ok: true, value: 0 },
      { taskRunId: "a", ok: true, value: 0 },
      [
        { taskRunId: "b", ok: true, value: 1 },
        { taskRunId: "c", ok: true, value: 2 },
        { taskRunId: "d", ok: true, value: 3 },
      ],
    ]);
  });

  it("ignore a duplicate reply (a redelivered run) and deliver replies sent before the reader read", async () => {
    const sender = new TaskRunReplySender(ctx.redis);
    const first = reader.wait<number>("run-1");
    await sender.send(reader.stream, { taskRunId: "run-1", ok: true, value: 1 });
    await sender.send(reader.stream, { taskRunId: "run-1", ok: true, value: 2 });
    expect(await first).toBe(1);
    // A reply already in the stream when the reader (re)starts reading is still delivered.
    await sender.send(reader.stream, { taskRunId: "run-2", ok: true, value: 3 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await reader.wait<number>("run-2")).toBe(3);
  });

  it("fail() ends one wait with the error (a run that could not be enqueued); a late reply to it is ignored", async () => {
    const failed = reader.wait("not-enqueued");
    const other = reader.wait<string>("enqueued");
    reader.fail("not-enqueued", new Error("Redis refused the job"));
    await expect(failed).rejects.toThrow("Redis refused the job");
    const sender = new TaskRunReplySender(ctx.redis);
    await sender.send(reader.stream, { taskRunId: "not-enqueued", ok: true, value: "late" });
    await sender.send(reader.stream, { taskRunId: "enqueued", ok: true, value: "on time" });
    expect(await other).toBe("on time");
    expect(reader.waiting).toBe(0);
  });

  it("to a reader in the same process go straight to it, as JSON, and through Redis once it is closed", async () => {
    const local = new LocalReplies();
    const hereConnection = ctx.redis.duplicate();
    const here = new TaskRunReplyReader(hereConnection, redisKeys(ctx.prefix).taskRunReplies("flow-process-2"), local);
    const sender = new TaskRunReplySender(ctx.redis, local);
    const result = here.wait<{ at: string; rows: number[] }>("run-1");
    const failed = here.wait("run-2");
    await sender.send(here.stream, { taskRunId: "run-1", ok: true, value: { at: new Date(0) as never, rows: [1, 2] } });
    await sender.send(here.stream, { taskRunId: "run-2", ok: false, error: { name: "KeyError", message: "'id'" } });
    // The value the flow gets is the JSON one, as from any other worker (a Date arrives as its string).
    expect(await result).toEqual({ at: "1970-01-01T00:00:00.000Z", rows: [1, 2] });
    await expect(failed).rejects.toMatchObject({ name: "KeyError", message: "'id'" });
    expect(await ctx.redis.exists(here.stream)).toBe(0); // nothing went through Redis
    // A reader elsewhere (another process) still gets its replies through Redis.
    const there = reader.wait<number>("run-3");
    await sender.send(reader.stream, { taskRunId: "run-3", ok: true, value: 3 });
    expect(await there).toBe(3);
    // Closed, the reader is no longer found here: replies to its stream go to Redis.
    here.close();
    await sender.send(here.stream, { taskRunId: "run-4", ok: true, value: 4 });
    expect(await ctx.redis.xlen(here.stream)).toBe(1);
    hereConnection.disconnect();
  });

  it("close() rejects what is still awaited", async () => {
    const pending = reader.wait("never");
    reader.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});
