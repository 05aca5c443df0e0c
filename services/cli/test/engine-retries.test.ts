import { exponentialBackoff, flow, task } from "@sluice/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ENGINE_MODES, type EngineHarness, startHarness, stateHistory } from "./support.js";

describe.each(ENGINE_MODES)("%s mode", (mode) => {
  let h: EngineHarness;
  beforeEach(async () => {
    h = await startHarness(mode);
  });
  afterEach(async () => {
    await h.close();
  });

  describe("task retries", () => {
    it("a task that fails twice then succeeds ends Completed with run_count 3 and every attempt in its history", async () => {
      let calls = 0;
      const flaky = task({ name: "flaky", retries: 3, retryDelaySeconds: 0 }, async () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return "ok";
      });
      const parent = flow({ name: "Retry Flow" }, async () => flaky());
      await expect(parent()).resolves.toBe("ok");
      await h.recorded();

      const [taskRun] = await h.query<{ id: string; state_name: string; run_count: number }>(
        "SELECT id, state_name, run_count FROM task_runs WHERE task_key = 'flaky'",
      );
      expect(taskRun).toMatchObject({ state_name: "Completed", run_count: 3 });
      expect(await stateHistory(h, "task_run", taskRun?.id as string)).toEqual([
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "AwaitingRetry",
        "Retrying",
        "Completed",
      ]);
      const [flowRun] = await h.query("SELECT state_name FROM flow_runs");
      expect(flowRun).toMatchObject({ state_name: "Completed" });
    });

    it("a task out of retries ends Failed and fails its flow", async () => {
      const broken = task({ name: "broken", retries: 1, retryDelaySeconds: [0] }, async () => {
        throw new Error("always broken");
      });
      const parent = flow({ name: "Failing Flow" }, async () => broken());
      await expect(parent()).rejects.toThrow("always broken");
      await h.recorded();

      const [taskRun] = await h.query<{ state_name: string; run_count: number; state_message: string }>(
        "SELECT state_name, run_count, state_message FROM task_runs",
      );
      expect(taskRun).toMatchObject({ state_name: "Failed", run_count: 2 });
      expect(taskRun?.state_message).toContain("always broken");
      const [flowRun] = await h.query<{ id: string; state_name: string; state_type: string }>(
        "SELECT id, state_name, state_type FROM flow_runs",
      );
      expect(flowRun).toMatchObject({ state_name: "Failed", state_type: "FAILED" });
      expect(await stateHistory(h, "flow_run", flowRun?.id as string)).toEqual(["Pending", "Running", "Failed"]);
      const logs = await h.query<{ message: string }>("SELECT message FROM logs WHERE level >= 40");
      expect(logs.some((log) => log.message.includes("always broken"))).toBe(true);
    });

    it("retryCondition returning false stops retrying", async () => {
      let calls = 0;
      const picky = task(
        {
          name: "picky",
          retries: 5,
          retryDelaySeconds: exponentialBackoff({ backoffFactor: 0 }),
          retryCondition: (error) => !(error instanceof TypeError),
        },
        async () => {
          calls++;
          throw new TypeError("not worth retrying");
        },
      );
      const parent = flow({ name: "Picky Flow" }, async () => picky());
      await expect(parent()).rejects.toThrow(TypeError);
      await h.recorded();
      expect(calls).toBe(1);
      const [taskRun] = await h.query("SELECT state_name, run_count FROM task_runs");
      expect(taskRun).toMatchObject({ state_name: "Failed", run_count: 1 });
    });

    it("a flow with retries runs its body again and records each attempt", async () => {
      let attempts = 0;
      const retried = flow({ name: "Retried Flow", retries: 2, retryDelaySeconds: 0 }, async () => {
        attempts++;
        if (attempts === 1) throw new Error("first attempt fails");
        return attempts;
      });
      await expect(retried()).resolves.toBe(2);
      await h.recorded();
      const [flowRun] = await h.query<{ id: string; run_count: number }>("SELECT id, run_count FROM flow_runs");
      expect(flowRun?.run_count).toBe(2);
      expect(await stateHistory(h, "flow_run", flowRun?.id as string)).toEqual([
        "Pending",
        "Running",
        "AwaitingRetry",
        "Retrying",
        "Completed",
      ]);
    });
  });

  describe("timeouts", () => {
    it("a task over its timeout ends TimedOut and its signal is aborted", async () => {
      const { currentSignal } = await import("@sluice/sdk");
      let seenSignal: AbortSignal | undefined;
      const slow = task({ name: "slow", timeoutSeconds: 0.05 }, async () => {
        seenSignal = currentSignal();
        await new Promise((resolve) => setTimeout(resolve, 2000));
        return "too late";
      });
      const parent = flow({ name: "Timeout Flow" }, async () => slow());
      const started = Date.now();
      await expect(parent()).rejects.toThrow(/timed out after 0.05s/);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(seenSignal?.aborted).toBe(true);
      await h.recorded();
      const [taskRun] = await h.query("SELECT state_name, state_type FROM task_runs");
      expect(taskRun).toMatchObject({ state_name: "TimedOut", state_type: "FAILED" });
    });

    it("a flow over its timeout abandons its running task runs at once, even those ignoring their signal", async () => {
      const stubborn = task({ name: "stubborn" }, async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return ms;
      });
      const parent = flow({ name: "Timeout Map Flow", timeoutSeconds: 0.3 }, async () =>
        stubborn.map([3000, 3000, 3000]),
      );
      const started = Date.now();
      await expect(parent()).rejects.toThrow(/timed out after 0.3s/);
      expect(Date.now() - started).toBeLessThan(2000);
      await h.recorded();
      // Ended with their flow's attempt, not when their bodies returned 3 s later.
      const taskRuns = await h.query<{ state_name: string }>("SELECT state_name FROM task_runs");
      expect(taskRuns.map((run) => run.state_name)).toEqual(["TimedOut", "TimedOut", "TimedOut"]);
    });
  });
});
