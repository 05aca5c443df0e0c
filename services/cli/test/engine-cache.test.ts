import { flow, task, taskInputHash } from "@sluice/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ClusterHarness, ENGINE_MODES, type EngineHarness, startHarness } from "./support.js";

function countingTask(options: { cacheExpiration?: string | number; refreshCache?: boolean } = {}) {
  const calls: unknown[] = [];
  const lookup = task(
    { name: "lookup", cacheKeyFn: taskInputHash, cacheExpiration: options.cacheExpiration ?? "1h", ...options },
    async (query: { city: string; page: number }) => {
      calls.push(query);
      return { city: query.city, rows: [query.page] };
    },
  );
  return { lookup, calls };
}

async function taskStates(harness: EngineHarness) {
  const rows = await harness.query<{ state_name: string }>(
    "SELECT state_name FROM task_runs WHERE task_key = 'lookup' ORDER BY created, expected_start_time",
  );
  return rows.map((row) => row.state_name);
}

describe.each(ENGINE_MODES)("%s mode", (mode) => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await startHarness(mode);
  });
  afterEach(async () => {
    await h.close();
  });

  describe("task caching", () => {
    it("same inputs within the expiration are Cached without running the body, whatever the key order", async () => {
      const { lookup, calls } = countingTask();
      const parent = flow({ name: "Cache Flow" }, async () => {
        const first = await lookup({ city: "Oslo", page: 1 });
        const second = await lookup({ page: 1, city: "Oslo" } as { city: string; page: number });
        return [first, second];
      });
      const [first, second] = await parent();
      expect(second).toEqual(first);
      expect(calls).toHaveLength(1);
      await h.recorded();
      expect(await taskStates(h)).toEqual(["Completed", "Cached"]);
    });

    it("a task that returns nothing is Cached too (a hit gives null: the JSON of nothing)", async () => {
      const calls: string[] = [];
      const touch = task({ name: "lookup", cacheKeyFn: taskInputHash, cacheExpiration: "1h" }, async (path: string) => {
        calls.push(path);
      });
      const parent = flow({ name: "Cache Flow" }, async () => [await touch("/tmp/a"), await touch("/tmp/a")]);
      expect(await parent()).toEqual([undefined, null]);
      expect(calls).toEqual(["/tmp/a"]);
      await h.recorded();
      expect(await taskStates(h)).toEqual(["Completed", "Cached"]);
    });

    it("the cache keeps the result as returned, even when the flow changes it afterwards", async () => {
      const { lookup } = countingTask();
      const parent = flow({ name: "Cache Flow" }, async () => {
        const first = await lookup({ city: "Oslo", page: 1 });
        first.rows.push(99); // the caller's own copy: the cached entry must not see this
        return lookup({ city: "Oslo", page: 1 });
      });
      expect(await parent()).toEqual({ city: "Oslo", rows: [1] });
      await h.recorded();
      const [entry] = await h.query<{ result: unknown }>("SELECT result FROM task_cache");
      expect(entry?.result).toEqual({ city: "Oslo", rows: [1] });
    });

    it("different inputs run the body", async () => {
      const { lookup, calls } = countingTask();
      const parent = flow({ name: "Cache Flow" }, async () => {
        await lookup({ city: "Oslo", page: 1 });
        await lookup({ city: "Oslo", page: 2 });
      });
      await parent();
      expect(calls).toHaveLength(2);
      await h.recorded();
      expect(await taskStates(h)).toEqual(["Completed", "Completed"]);
    });

    it("an expired entry runs the body again", async () => {
      const { lookup, calls } = countingTask({ cacheExpiration: 50 });
      const parent = flow({ name: "Cache Flow" }, async () => {
        await lookup({ city: "Oslo", page: 1 });
        await new Promise((resolve) => setTimeout(resolve, 120));
        await lookup({ city: "Oslo", page: 1 });
      });
      await parent();
      expect(calls).toHaveLength(2);
    });

    it("refreshCache runs the body even when a cached result exists", async () => {
      const { lookup } = countingTask();
      const refreshing = countingTask({ refreshCache: true });
      const parent = flow({ name: "Cache Flow" }, async () => {
        await lookup({ city: "Oslo", page: 1 });
        await refreshing.lookup({ city: "Oslo", page: 1 });
      });
      await parent();
      expect(refreshing.calls).toHaveLength(1);
    });

    it("a result the cache cannot keep leaves the run Completed, with a warning, and the next call runs again", async () => {
      const calls: number[] = [];
      const big = task({ name: "lookup", cacheKeyFn: taskInputHash }, async (n: number) => {
        calls.push(n);
        return { n: BigInt(n) }; // no JSON for a BigInt
      });
      const parent = flow({ name: "Cache Flow" }, async () => [(await big(1)).n, (await big(1)).n]);
      expect(await parent()).toEqual([1n, 1n]);
      expect(calls).toEqual([1, 1]);
      await h.recorded();
      expect(await taskStates(h)).toEqual(["Completed", "Completed"]);
      const warnings = await h.query<{ message: string }>(
        "SELECT message FROM logs WHERE task_run_id IS NOT NULL AND message LIKE 'Could not cache%'",
      );
      expect(warnings).toHaveLength(2);
      expect(warnings[0]?.message).toContain("BigInt");
    });

    it("a new engine (another process) reads the cached result back from the store", async () => {
      const { lookup } = countingTask();
      const parent = flow({ name: "Cache Flow" }, async () => lookup({ city: "Oslo", page: 1 }));
      await parent();
      await h.restart();

      const again = countingTask();
      const rerun = flow({ name: "Cache Flow" }, async () => again.lookup({ city: "Oslo", page: 1 }));
      await expect(rerun()).resolves.toEqual({ city: "Oslo", rows: [1] });
      expect(again.calls).toHaveLength(0);
      await h.recorded();
      expect(await taskStates(h)).toEqual(["Completed", "Cached"]);
    });
  });
});

describe("cluster mode only", () => {
  let h: ClusterHarness;
  beforeEach(async () => {
    h = await startHarness("cluster");
  });
  afterEach(async () => {
    await h.close();
  });

  it("cache hits are shared across processes and survive a Redis restart (read back from Postgres)", async () => {
    const { lookup } = countingTask();
    const parent = flow({ name: "Cache Flow" }, async () => lookup({ city: "Oslo", page: 1 }));
    await parent();
    await h.restart(); // a new engine: new connections, as another process would have

    // Forget everything Redis knew about the cache, as a restart without persistence would.
    const keys = await h.ctx.redis.keys(`${h.ctx.prefix}:cache:*`);
    expect(keys.length).toBe(1);
    await h.ctx.redis.del(...keys);

    const again = countingTask();
    const rerun = flow({ name: "Cache Flow" }, async () => again.lookup({ city: "Oslo", page: 1 }));
    await expect(rerun()).resolves.toEqual({ city: "Oslo", rows: [1] });
    expect(again.calls).toHaveLength(0);
    await h.recorded();
    expect(await taskStates(h)).toEqual(["Completed", "Cached"]);
  });

  it("a result too big for Redis is written to Postgres before the run completes, and hits from there", async () => {
    const calls: number[] = [];
    const batch = task({ name: "lookup", cacheKeyFn: taskInputHash, cacheExpiration: "1h" }, async (size: number) => {
      calls.push(size);
      // A NUL in a string: valid JSON, refused by jsonb unless it is dropped.
      return Array.from({ length: size }, (_, id) => ({
        id,
        name: `user ${id}\u0000`,
        email: `user${id}@example.com`,
      }));
    });
    const parent = flow({ name: "Cache Flow" }, async () => (await batch(5000)).length);
    expect(await parent()).toBe(5000);
    // Already in Postgres (not waiting for the recorder), and not in Redis's memory.
    const [entry] = await h.query<{ n: number }>("SELECT json_array_length(result) AS n FROM task_cache");
    expect(entry?.n).toBe(5000);
    expect(await h.ctx.redis.keys(`${h.ctx.prefix}:cache:*`)).toEqual([]);

    await h.restart();
    const rerun = flow({ name: "Cache Flow" }, async () => (await batch(5000)).at(-1));
    expect(await rerun()).toEqual({ id: 4999, name: "user 4999", email: "user4999@example.com" });
    expect(calls).toEqual([5000]);
    await h.recorded();
    expect(await taskStates(h)).toEqual(["Completed", "Cached"]);
  });
});
