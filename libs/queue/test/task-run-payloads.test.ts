import type { ResultStore, TaskRunRequest } from "@sluice/core";
import { type TaskRunJob, TaskRunPayloads } from "@sluice/queue";
import { describe, expect, it } from "vitest";

class MemoryResultStore implements ResultStore {
  readonly entries = new Map<string, string>();
  async put(key: string, json: string): Promise<void> {
    this.entries.set(key, json);
  }
  async get(key: string): Promise<string | null> {
    return this.entries.get(key) ?? null;
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
  }
}

function request(args: unknown[], detached = false): TaskRunRequest {
  return {
    taskRunId: "11111111-1111-4111-8111-111111111111",
    taskName: "t",
    definedIn: null,
    args,
    dynamicKey: 0,
    flowRun: null,
    logPrints: false,
    detached,
  };
}

/** What travels: through JSON, as BullMQ and the reply stream carry it. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe("TaskRunPayloads", () => {
  const limit = 1000;

  it("round trip of large arguments and a large result through the store, deleted once the flow has the result", async () => {
    const store = new MemoryResultStore();
    const payloads = new TaskRunPayloads({ store, inlineLimitBytes: limit });
    const req = request(["x".repeat(limit), 1]);

    // Flow side: the job carries a reference.
    const args = payloads.encodeArgs(req);
    expect(args.stored).not.toBeNull();
    if (args.stored) await payloads.save(args.stored);
    const job: TaskRunJob = wire({ ...req, args: args.value, module: "m.ts", replyTo: "stream" });
    expect(JSON.stringify(job).length).toBeLessThan(500);

    // Worker side: the request has its arguments back; the result goes to the store.
    expect((await payloads.requestOf(job)).args).toEqual(req.args);
    const result = payloads.encodeResult(job, { rows: "y".repeat(limit) });
    expect(result.stored?.key).toBe(`task-run/${req.taskRunId}/result`);
    if (result.stored) await payloads.save(result.stored);
    payloads.finished(job);
    expect(store.entries.size).toBe(2); // awaited: the flow deletes them

    // Flow side: the result, then nothing left.
    expect(await payloads.receive(Promise.resolve(wire(result.value)), args)).toEqual({ rows: "y".repeat(limit) });
    await payloads.settle();
    expect(store.entries.size).toBe(0);
  });

  it("keeps small payloads inline, the values themselves, without touching the store", async () => {
    const store = new MemoryResultStore();
    const payloads = new TaskRunPayloads({ store, inlineLimitBytes: limit });
    const req = request(["s3://bucket/key", { retries: 3 }]);
    const args = payloads.encodeArgs(req);
    expect(args).toEqual({ value: req.args, stored: null });
    const job: TaskRunJob = { ...req, args: args.value, module: "m.ts", replyTo: "stream" };
    expect(await payloads.requestOf(job)).toBe(job);
    const value = { $ref: "looks like a reference" };
    const result = payloads.encodeResult(job, value);
    expect(result.stored).toBeNull();
    expect(await payloads.receive(Promise.resolve(wire(result.value)), args)).toEqual(value);
    expect(payloads.encodeResult(job, undefined)).toEqual({ value: null, stored: null });
    expect(store.entries.size).toBe(0);
  });

  it("deletes the stored arguments when the run failed too", async () => {
    const store = new MemoryResultStore();
    const payloads = new TaskRunPayloads({ store, inlineLimitBytes: limit });
    const args = payloads.encodeArgs(request(["x".repeat(limit)]));
    if (args.stored) await payloads.save(args.stored);
    await expect(payloads.receive(Promise.reject(new Error("boom")), args)).rejects.toThrow("boom");
    await payloads.settle();
    expect(store.entries.size).toBe(0);
  });

  it("a run nobody awaits (.delay()): its worker deletes the stored arguments and keeps no result", async () => {
    const store = new MemoryResultStore();
    const payloads = new TaskRunPayloads({ store, inlineLimitBytes: limit });
    const req = request(["x".repeat(limit)], true);
    const args = payloads.encodeArgs(req);
    if (args.stored) await payloads.save(args.stored);
    const job: TaskRunJob = wire({ ...req, args: args.value, module: "m.ts", replyTo: null });
    expect(payloads.encodeResult(job, "y".repeat(limit * 2))).toEqual({ value: null, stored: null });
    payloads.finished(job);
    await payloads.settle();
    expect(store.entries.size).toBe(0);
  });

  it("a payload gone from the store is an error naming it", async () => {
    const payloads = new TaskRunPayloads({ store: new MemoryResultStore(), inlineLimitBytes: limit });
    const job = { ...request([]), args: { $ref: "task-run/x/args", bytes: 5000 }, module: "m.ts", replyTo: null };
    await expect(payloads.requestOf(job)).rejects.toThrow("task-run/x/args");
  });

  it("without a store, everything travels inline", () => {
    const payloads = new TaskRunPayloads();
    const req = request(["x".repeat(1_000_000)]);
    expect(payloads.encodeArgs(req)).toEqual({ value: req.args, stored: null });
  });
});
