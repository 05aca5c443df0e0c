/**
 * Embedded mode across processes, through the `sluice` command with Redis and Postgres
 * unreachable: subflows, a run killed mid-way, two commands on one SLUICE_HOME, `db reset`.
 */
import { createEmbeddedHome, type EmbeddedHome } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  flowRunsJson,
  ISOLATION,
  runSluiceEmbedded,
  spawnSluiceEmbedded,
  waitForOutput,
  withStore,
} from "./embedded-cli.js";

const SLEEPY = "examples/test/fixtures/sleepy_flow.ts";

describe(`embedded mode across processes: ${ISOLATION}`, () => {
  let home: EmbeddedHome;
  afterEach(() => {
    home.close();
  });

  describe("with a migrated store", () => {
    beforeEach(() => {
      home = createEmbeddedHome();
    });

    it("the multi-stage example records its two subflows, linked to the parent", async () => {
      const result = await runSluiceEmbedded(["run", "examples/flows/data_pipeline.ts"], home.home);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Pipeline complete: 12 records ingested and enriched");
      const rows = await withStore(home.home, (query) =>
        query<{ flow: string; state_name: string; parent_flow: string | null; result: unknown }>(`
          SELECT f.name AS flow, fr.state_name, parent_flow.name AS parent_flow, fr.result
          FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id
          LEFT JOIN task_runs link ON link.id = fr.parent_task_run_id
          LEFT JOIN flow_runs parent ON parent.id = link.flow_run_id
          LEFT JOIN flows parent_flow ON parent_flow.id = parent.flow_id
          ORDER BY fr.expected_start_time`),
      );
      expect(rows.map((row) => [row.flow, row.state_name, row.parent_flow])).toEqual([
        ["Full Data Pipeline", "Completed", null],
        ["Stage 1 - Ingest", "Completed", "Full Data Pipeline"],
        ["Stage 2 - Enrich", "Completed", "Full Data Pipeline"],
      ]);
      expect(rows[0]?.result).toEqual({ count: 12, domains: 11 });

      const [parent] = await flowRunsJson(home.home).then((runs) => runs.filter((run) => !run.parent_task_run_id));
      const inspect = await runSluiceEmbedded(["flow-run", "inspect", parent?.id ?? ""], home.home);
      expect(inspect.stdout).toMatch(
        /Subflow runs\n.*\n.*\n.*Stage 1 - Ingest .*Completed.*\n.*Stage 2 - Enrich .*Completed/,
      );
    }, 120_000);

    it("a run killed mid-way (SIGKILL) shows as Crashed next time; the store opens without error", async () => {
      const cli = spawnSluiceEmbedded(["run", SLEEPY, "--param", "seconds=60"], home.home);
      await waitForOutput(cli, ({ stdout }) => stdout.includes("napping for 60s"));
      await new Promise((resolve) => setTimeout(resolve, 500)); // its Running states are committed by then
      cli.child.kill("SIGKILL");
      const killed = await cli.result;
      expect(killed.code).toBeNull();

      const ls = await runSluiceEmbedded(["flow-run", "ls"], home.home);
      expect(ls.code).toBe(0);
      expect(ls.stderr).toBe("1 flow run left unfinished by a sluice process that exited marked Crashed\n");
      expect(ls.stdout).toMatch(/\n\S+\s+Sleepy\s+\S+\s+Crashed\s/);

      const [run] = await flowRunsJson(home.home);
      const inspect = await runSluiceEmbedded(["flow-run", "inspect", run?.id ?? "", "--json"], home.home);
      expect(inspect.stderr).toBe(""); // recovered once, not again
      const details = JSON.parse(inspect.stdout) as {
        state_message: string;
        state: { message: string };
        states: { name: string }[];
        task_runs: { name: string; state_name: string }[];
      };
      expect(details.states.map((state) => state.name)).toEqual(["Pending", "Running", "Crashed"]);
      expect(details.state.message).toContain(`(pid ${cli.child.pid})`);
      expect(details.task_runs.map((taskRun) => [taskRun.name, taskRun.state_name])).toEqual([["nap-0", "Crashed"]]);
    }, 120_000);

    it("two commands started at once on one SLUICE_HOME both succeed: the second waits for the first", async () => {
      const runs = [0, 1].map(() => spawnSluiceEmbedded(["run", SLEEPY, "--param", "seconds=3"], home.home));
      const results = await Promise.all(runs.map((cli) => cli.result));
      expect(results.map((result) => result.code)).toEqual([0, 0]);
      const waited = results.filter((result) => result.stderr.includes("Waiting for another sluice process (pid "));
      expect(waited).toHaveLength(1);
      expect(waited[0]?.stderr).toMatch(
        new RegExp(`^Waiting for another sluice process \\(pid \\d+\\) using ${home.home}…\\n$`),
      );
      const listed = await flowRunsJson(home.home);
      expect(listed.map((run) => [run.flow_name, run.state_name])).toEqual([
        ["Sleepy", "Completed"],
        ["Sleepy", "Completed"],
      ]);
    }, 120_000);

    it("db reset asks first: refused without a terminal, done with --yes", async () => {
      expect((await runSluiceEmbedded(["run", SLEEPY, "--param", "seconds=0"], home.home)).code).toBe(0);
      const refused = await runSluiceEmbedded(["db", "reset"], home.home);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("run again with --yes");
      expect(await flowRunsJson(home.home)).toHaveLength(1);

      const reset = await runSluiceEmbedded(["db", "reset", "--yes"], home.home);
      expect(reset.code).toBe(0);
      expect(reset.stdout).toContain(`Cleared the embedded database in ${home.home}/db`);
      const ls = await runSluiceEmbedded(["flow-run", "ls"], home.home);
      expect(ls.stdout).toBe("No flow runs yet: start one with `npx sluice run FILE`.\n");
    }, 120_000);
  });
});
