import { ParameterValidationError } from "@sluice/core";
import { flow, getRunLogger, task } from "@sluice/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { maxOverlap } from "../../worker/test/max-overlap.js";
import { ENGINE_MODES, type EngineHarness, startHarness, stateHistory } from "./support.js";

describe.each(ENGINE_MODES)("%s mode", (mode) => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await startHarness(mode);
  });
  afterEach(async () => {
    await h.close();
  });

  describe("flow runs", () => {
    it("records the flow run, its parameters with defaults, states, result and logs", async () => {
      const greet = task({ name: "greet" }, async (who: string) => {
        getRunLogger().info(`Greeting ${who}`);
        console.log("printed inside a task");
        return `hello ${who}`;
      });
      const hello = flow(
        { name: "Hello", logPrints: true, parameters: z.object({ who: z.string(), times: z.number().default(2) }) },
        async ({ who, times }) => {
          console.log(`saying hello ${times} times`);
          return greet(who);
        },
      );
      await expect(hello({ who: "ops" })).resolves.toBe("hello ops");
      await h.recorded();

      const [run] = await h.query<{
        id: string;
        parameters: unknown;
        state_name: string;
        result: unknown;
        total_run_time: number;
      }>("SELECT fr.*, f.name AS flow_name FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id");
      expect(run).toMatchObject({
        flow_name: "Hello",
        parameters: { who: "ops", times: 2 },
        state_name: "Completed",
        result: "hello ops",
      });
      expect(await stateHistory(h, "flow_run", run?.id as string)).toEqual(["Pending", "Running", "Completed"]);
      const logs = (
        await h.query<{ message: string; task_run_id: string | null }>(
          "SELECT message, task_run_id FROM logs ORDER BY timestamp",
        )
      ).map((log) => log.message);
      expect(logs).toContain("saying hello 2 times");
      expect(logs).toContain("printed inside a task");
      expect(logs).toContain("Greeting ops");
    });

    it("big task inputs are described and big results omitted from the state, small ones kept as they are", async () => {
      const rows = Array.from({ length: 10_000 }, (_, id) => ({ id, email: `user${id}@example.com` }));
      const count = task({ name: "count_rows" }, async (batch: typeof rows, label: string) => ({
        label,
        n: batch.length,
      }));
      const echo = task({ name: "echo_rows" }, async (batch: typeof rows) => batch);
      const parent = flow({ name: "Payload Flow" }, async () => {
        await count(rows, "all");
        return (await echo(rows)).length;
      });
      expect(await parent()).toBe(10_000);
      await h.recorded();
      const runs = await h.query<{ task_key: string; task_inputs: unknown }>(
        "SELECT task_key, task_inputs FROM task_runs ORDER BY task_key",
      );
      expect(runs).toEqual([
        { task_key: "count_rows", task_inputs: { 0: { type: "array(10000)" }, 1: "all" } },
        { task_key: "echo_rows", task_inputs: { 0: { type: "array(10000)" } } },
      ]);
      const results = await h.query<{ task_key: string; data: unknown }>(
        `SELECT t.task_key, s.data FROM task_run_states s JOIN task_runs t ON t.id = s.task_run_id
          WHERE s.type = 'COMPLETED' ORDER BY t.task_key`,
      );
      expect(results).toEqual([
        { task_key: "count_rows", data: { label: "all", n: 10_000 } },
        { task_key: "echo_rows", data: { $omitted: "too large to keep with the state", over_bytes: 65_536 } },
      ]);
    });

    it("invalid parameters fail before anything is written, naming the field", async () => {
      const strict = flow({ name: "Strict", parameters: z.object({ apiUrl: z.string().url() }) }, async () => 1);
      const error = await strict({ apiUrl: "not a url" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ParameterValidationError);
      expect((error as Error).message).toMatch(/parameters\.apiUrl/);
      await h.recorded();
      expect(await h.query("SELECT * FROM flow_runs")).toEqual([]);
    });

    it("subflows are flow runs of their own, linked to the parent through a task run", async () => {
      const child = flow({ name: "Child" }, async ({ n }: { n: number }) => n * 2);
      const parent = flow({ name: "Parent" }, async () => (await child({ n: 1 })) + (await child({ n: 2 })));
      await expect(parent()).resolves.toBe(6);
      await h.recorded();
      const runs = await h.query<{
        id: string;
        flow_name: string;
        parent_task_run_id: string | null;
        state_name: string;
      }>(
        "SELECT fr.id, f.name AS flow_name, fr.parent_task_run_id, fr.state_name FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id",
      );
      const parentRun = runs.find((run) => run.flow_name === "Parent");
      const children = runs.filter((run) => run.flow_name === "Child");
      expect(children).toHaveLength(2);
      for (const childRun of children) {
        expect(childRun.state_name).toBe("Completed");
        const [link] = await h.query<{ flow_run_id: string; name: string }>(
          "SELECT flow_run_id, name FROM task_runs WHERE id = $1",
          [childRun.parent_task_run_id],
        );
        expect(link?.flow_run_id).toBe(parentRun?.id);
      }
    });

    it("submit() and map() run task runs concurrently and return results in order", async () => {
      const double = task({ name: "double" }, async (n: number) => {
        await new Promise((resolve) => setTimeout(resolve, 20 - n));
        return n * 2;
      });
      const fanOut = flow({ name: "Fan Out" }, async () => {
        const future = double.submit(10);
        const mapped = await double.map([1, 2, 3, 4, 5]);
        return { single: await future.result(), mapped, state: future.state().name };
      });
      await expect(fanOut()).resolves.toEqual({ single: 20, mapped: [2, 4, 6, 8, 10], state: "Completed" });
      await h.recorded();
      const rows = await h.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM task_runs WHERE state_name = 'Completed'",
      );
      expect(rows[0]?.n).toBe(6);
    });

    it("delay() hands a task run over without waiting; it still runs and is recorded", async () => {
      let sent = false;
      const notify = task({ name: "notify" }, async (to: string) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        sent = true;
        return `sent to ${to}`;
      });
      const parent = flow({ name: "Notifying" }, async () => {
        await notify.delay("ops");
        return sent;
      });
      await expect(parent()).resolves.toBe(false); // the flow did not wait for it
      await h.recorded();
      expect(sent).toBe(true);
      const rows = await h.query<{ state_name: string; result: unknown }>(
        "SELECT state_name, result FROM task_runs WHERE task_key = 'notify'",
      );
      expect(rows).toEqual([{ state_name: "Completed", result: "sent to ops" }]);
    });

    it("a task rateLimit spaces its starts: at most `max` per window", async () => {
      const call = task({ name: "call_api", rateLimit: { max: 3, durationMs: 400 } }, async (n: number) => n);
      const parent = flow({ name: "Rate Limited" }, async () => call.map([1, 2, 3, 4, 5, 6, 7, 8, 9]));
      await expect(parent()).resolves.toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await h.recorded();
      const rows = await h.query<{ at: Date }>(
        `SELECT s.timestamp AS at FROM task_run_states s JOIN task_runs t ON t.id = s.task_run_id
         WHERE t.task_key = 'call_api' AND s.name = 'Running' ORDER BY s.timestamp`,
      );
      const starts = rows.map((row) => new Date(row.at).getTime());
      expect(starts).toHaveLength(9);
      for (let i = 0; i + 3 < starts.length; i++) {
        expect((starts[i + 3] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(350);
      }
    });

    it("a task concurrencyLimit holds across concurrent runs", async () => {
      let active = 0;
      let peak = 0;
      const limited = task({ name: "limited", concurrencyLimit: 2 }, async (_item: number) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 30));
        active--;
      });
      const parent = flow({ name: "Limited" }, async () => limited.map([1, 2, 3, 4, 5, 6]));
      await parent();
      expect(peak).toBe(2);
    });

    it("a tag limit of 3 holds for 30 submitted tasks; waiting ones are AwaitingConcurrencySlot, then all complete", async () => {
      await h.setTagLimit("warehouse", 3);
      const load = task({ name: "load_chunk", tags: ["warehouse", "etl"] }, async (chunk: number) => {
        await new Promise((resolve) => setTimeout(resolve, 40));
        return chunk;
      });
      const parent = flow({ name: "Tag Limited" }, async () => {
        const futures = Array.from({ length: 30 }, (_, i) => load.submit(i));
        return Promise.all(futures.map((future) => future.result()));
      });
      await expect(parent()).resolves.toEqual(Array.from({ length: 30 }, (_, i) => i));
      await h.recorded();

      // From the recorded history: never more than 3 task runs Running at once.
      const spans = await h.query<{ id: string; start: Date; end: Date }>(
        `SELECT t.id, min(s.timestamp) FILTER (WHERE s.name = 'Running') AS start,
                max(s.timestamp) FILTER (WHERE s.type = 'COMPLETED') AS end
         FROM task_runs t JOIN task_run_states s ON s.task_run_id = t.id
         WHERE t.task_key = 'load_chunk' GROUP BY t.id`,
      );
      expect(spans).toHaveLength(30);
      expect(maxOverlap(spans.map((span) => ({ start: new Date(span.start), end: new Date(span.end) })))).toBe(3);
      const waited = await h.query<{ n: number }>(
        "SELECT count(DISTINCT task_run_id)::int AS n FROM task_run_states WHERE name = 'AwaitingConcurrencySlot'",
      );
      expect(waited[0]?.n).toBeGreaterThanOrEqual(27);
    });
  });
});
