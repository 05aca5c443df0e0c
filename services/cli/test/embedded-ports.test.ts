import type { RunEvent } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { BatchingEventSink } from "../src/modes/batching-event-sink.js";
import { chooseMode } from "../src/modes/choose.js";

const log = (message: string): RunEvent => ({
  kind: "log",
  id: crypto.randomUUID(),
  timestamp: new Date().toISOString(),
  flowRunId: null,
  taskRunId: null,
  name: "test",
  level: "INFO",
  message,
});
const messages = (batch: RunEvent[]) => batch.map((event) => (event.kind === "log" ? event.message : event.kind));

class DataError extends Error {}

describe("BatchingEventSink (embedded mode's event sink)", () => {
  it("writes events in batches, one write at a time; flush() resolves once everything emitted is written", async () => {
    const written: string[][] = [];
    let active = 0;
    const sink = new BatchingEventSink({
      maxBatchSize: 3,
      maxDelayMs: 10_000,
      write: async (batch) => {
        active++;
        expect(active).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        written.push(messages(batch));
        active--;
      },
    });
    for (const message of ["a", "b", "c", "d", "e"]) sink.emit(log(message));
    expect(sink.pending).toBe(2); // the first three went as soon as the batch was full
    await sink.flush();
    expect(written).toEqual([
      ["a", "b", "c"],
      ["d", "e"],
    ]);
  });

  it("writes a lone event after the delay, without a flush", async () => {
    const written: string[][] = [];
    const sink = new BatchingEventSink({ maxDelayMs: 5, write: async (batch) => void written.push(messages(batch)) });
    sink.emit(log("alone"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toEqual([["alone"]]);
  });

  it("drops only the events the store rejects as bad data, and reports them", async () => {
    const written: string[] = [];
    const dropped: string[] = [];
    const sink = new BatchingEventSink({
      write: async (batch) => {
        if (messages(batch).includes("bad")) throw new DataError("invalid input syntax");
        written.push(...messages(batch));
      },
      isDataError: (error) => error instanceof DataError,
      onDropped: (events) => dropped.push(...messages(events)),
    });
    for (const message of ["ok 1", "bad", "ok 2"]) sink.emit(log(message));
    await sink.flush();
    expect(written).toEqual(["ok 1", "ok 2"]);
    expect(dropped).toEqual(["bad"]);
  });

  it("flush() rejects once when a write failed for another reason", async () => {
    let fail = true;
    const sink = new BatchingEventSink({
      write: async () => {
        if (fail) throw new Error("database closed");
      },
    });
    sink.emit(log("lost"));
    await expect(sink.flush()).rejects.toThrow("database closed");
    fail = false;
    sink.emit(log("next"));
    await expect(sink.flush()).resolves.toBeUndefined();
  });
});

describe("chooseMode", () => {
  const home = "/tmp/sluice-home-for-mode-tests";

  it("--embedded and SLUICE_EMBEDDED=1 force embedded mode, whatever is configured", async () => {
    const configured = loadConfig({ SLUICE_REDIS_URL: "redis://127.0.0.1:1", SLUICE_HOME: home });
    await expect(chooseMode(configured, { embedded: true })).resolves.toEqual({
      kind: "embedded",
      home,
      line: `Sluice embedded mode (--embedded): runs recorded in ${home} (PGlite)`,
    });
    const forced = loadConfig({ SLUICE_EMBEDDED: "1", SLUICE_HOME: home });
    expect((await chooseMode(forced)).line).toBe(
      `Sluice embedded mode (SLUICE_EMBEDDED=1): runs recorded in ${home} (PGlite)`,
    );
  });

  it("an explicitly configured but unreachable Redis or Postgres is an error naming the URL", async () => {
    await expect(chooseMode(loadConfig({ SLUICE_REDIS_URL: "redis://127.0.0.1:1" }))).rejects.toThrow(
      "Redis at redis://127.0.0.1:1 (SLUICE_REDIS_URL) is not reachable",
    );
    await expect(
      chooseMode(loadConfig({ SLUICE_DATABASE_URL: "postgres://user:secret@127.0.0.1:1/sluice" })),
    ).rejects.toThrow("Postgres at postgres://user:***@127.0.0.1:1/sluice (SLUICE_DATABASE_URL) is not reachable");
  });

  it("SLUICE_HOME defaults to ~/.sluice", () => {
    expect(loadConfig({ HOME: "/home/ada" }).home).toMatch(/\/\.sluice$/);
    expect(loadConfig({ SLUICE_HOME: "relative/home" }).home).toMatch(/^\/.*\/relative\/home$/);
  });
});
