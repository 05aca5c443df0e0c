/**
 * The README's quick start on a machine with only Node: embedded mode, end to end through the
 * `sluice` command, in a fresh SLUICE_HOME, with Redis and Postgres unreachable. What the commands
 * recorded is read back from the embedded store after they exit.
 */
import { createEmbeddedHome, type EmbeddedHome } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  expectedModeLine,
  type FlowRunJson,
  flowRunsJson,
  ISOLATION,
  runSluiceEmbedded,
  withStore,
} from "./embedded-cli.js";

describe(`embedded mode, end to end through \`sluice\`: ${ISOLATION}`, () => {
  let home: EmbeddedHome;
  afterEach(() => {
    home.close();
  });

  describe("in a fresh SLUICE_HOME", () => {
    beforeEach(() => {
      home = createEmbeddedHome({ fresh: true });
    });

    it("the ETL example loads users into the embedded database; the second run is Cached; flow-run ls/inspect/logs show it", async () => {
      const first = await runSluiceEmbedded(["run", "examples/flows/etl_pipeline.ts"], home.home);
      expect(first.stderr).toBe("");
      expect(first.code).toBe(0);
      expect(first.stdout.split("\n")[0]).toBe(expectedModeLine(home.home));
      expect(first.stdout).toContain("Pipeline complete: 10 rows loaded into users");

      const second = await runSluiceEmbedded(["run", "examples/flows/etl_pipeline.ts"], home.home);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/Task run 'extract_data-0' - Finished in state Cached/);

      await withStore(home.home, async (query) => {
        const users = await query<{ id: unknown; name: string; created_at: Date; company_name: string }>(
          "SELECT * FROM users ORDER BY id",
        );
        expect(users.map((user) => Number(user.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect(users[0]?.created_at).toBeInstanceOf(Date);
        expect(users[0]).toMatchObject({
          name: "Leanne Graham",
          company_name: "Graham Group",
          address_city: "Gwenborough",
        });

        const runs = await query<{ id: string; state_name: string; parameters: Record<string, unknown> }>(
          "SELECT fr.id, fr.state_name, fr.parameters FROM flow_runs fr JOIN flows f ON f.id = fr.flow_id WHERE f.name = 'ETL Pipeline' ORDER BY fr.expected_start_time",
        );
        expect(runs.map((run) => run.state_name)).toEqual(["Completed", "Completed"]);
        expect(runs[0]?.parameters).toMatchObject({ tableName: "users" });
        const taskRuns = await query<{ id: string; name: string; state_name: string }>(
          // start_time (the Running state's, to the microsecond): transform and load can be created within one millisecond.
          "SELECT id, name, state_name FROM task_runs WHERE flow_run_id = $1 ORDER BY start_time",
          [runs[0]?.id],
        );
        expect(taskRuns.map((run) => [run.name, run.state_name])).toEqual([
          ["extract_data-0", "Completed"],
          ["transform_data-0", "Completed"],
          ["load_data-0", "Completed"],
        ]);
        for (const run of taskRuns) {
          const states = await query<{ name: string }>(
            "SELECT name FROM task_run_states WHERE task_run_id = $1 ORDER BY timestamp",
            [run.id],
          );
          expect(states.map((state) => state.name)).toEqual(["Pending", "Running", "Completed"]);
        }
        const flowStates = await query<{ name: string }>(
          "SELECT name FROM flow_run_states WHERE flow_run_id = $1 ORDER BY timestamp",
          [runs[0]?.id],
        );
        expect(flowStates.map((state) => state.name)).toEqual(["Pending", "Running", "Completed"]);
        const logs = (
          await query<{ message: string }>("SELECT message FROM logs WHERE flow_run_id = $1", [runs[0]?.id])
        ).map((log) => log.message);
        expect(logs).toContain("Pipeline complete: 10 rows loaded into users"); // console.log, captured by logPrints
        expect(logs.some((message) => message.startsWith("Extracting data from http://127.0.0.1:"))).toBe(true);
        const extracts = await query<{ state_name: string }>(
          "SELECT state_name FROM task_runs WHERE task_key = 'extract_data' ORDER BY expected_start_time",
        );
        expect(extracts.map((run) => run.state_name)).toEqual(["Completed", "Cached"]);
      });

      // flow-run ls: both runs, Completed, newest first.
      const listed = await flowRunsJson(home.home);
      expect(listed.map((run) => [run.flow_name, run.state_name])).toEqual([
        ["ETL Pipeline", "Completed"],
        ["ETL Pipeline", "Completed"],
      ]);
      const [newest, oldest] = listed as [FlowRunJson, FlowRunJson];
      const table = await runSluiceEmbedded(["flow-run", "ls"], home.home);
      expect(table.code).toBe(0);
      const lines = table.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^ID\s+Flow\s+Name\s+State\s+Start time \(UTC\)\s+Duration$/);
      expect(lines.slice(2).map((line) => line.split(/\s{2,}/).slice(0, 4))).toEqual([
        [newest.id, "ETL Pipeline", newest.name, "Completed"],
        [oldest.id, "ETL Pipeline", oldest.name, "Completed"],
      ]);

      // flow-run inspect: states, task runs, parameters, result.
      const inspect = await runSluiceEmbedded(["flow-run", "inspect", oldest.id], home.home);
      expect(inspect.code).toBe(0);
      expect(inspect.stdout).toContain(`Flow run    ${oldest.name} (${oldest.id})`);
      expect(inspect.stdout).toMatch(/States\n.*\n.*\n.*Pending\n.*Running\n.*Completed\n/);
      expect(inspect.stdout).toMatch(/extract_data-0\s+Completed/);
      expect(inspect.stdout).toMatch(/load_data-0\s+Completed/);
      expect(inspect.stdout).toContain('"tableName": "users"');
      expect(inspect.stdout).toMatch(/Result\n {2}10\n/);
      const inspectJson = await runSluiceEmbedded(["flow-run", "inspect", newest.id, "--json"], home.home);
      const details = JSON.parse(inspectJson.stdout) as {
        result: unknown;
        states: { name: string; timestamp: string }[];
        task_runs: { name: string; state_name: string; states: { name: string }[] }[];
      };
      expect(details.result).toBe(10);
      expect(details.states.map((state) => state.name)).toEqual(["Pending", "Running", "Completed"]);
      expect(details.task_runs.map((run) => [run.name, run.state_name])).toEqual([
        ["extract_data-0", "Cached"],
        ["transform_data-0", "Completed"],
        ["load_data-0", "Completed"],
      ]);
      expect(details.task_runs[0]?.states.map((state) => state.name)).toEqual(["Pending", "Cached"]);

      // flow-run logs: the run's lines, in order, including what console.log printed.
      const logs = await runSluiceEmbedded(["flow-run", "logs", oldest.id.slice(0, 8)], home.home);
      expect(logs.code).toBe(0);
      const logLines = logs.stdout.trim().split("\n");
      expect(logLines[0]).toMatch(
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| INFO {4}\| Flow run '.+' - Beginning flow run/,
      );
      expect(logLines).toContainEqual(
        expect.stringMatching(/\| INFO {4}\| Task run 'extract_data-0' - Extracting data from http:\/\/127\.0\.0\.1:/),
      );
      expect(logLines.at(-2)).toMatch(
        new RegExp(`\\| INFO {4}\\| Flow run '${oldest.name}' - Pipeline complete: 10 rows loaded into users$`),
      );
      const logsJson = JSON.parse(
        (await runSluiceEmbedded(["flow-run", "logs", oldest.id, "--json"], home.home)).stdout,
      );
      expect(logsJson).toHaveLength(logLines.length);

      for (const command of ["inspect", "logs"]) {
        const missing = await runSluiceEmbedded(["flow-run", command, "nope"], home.home);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe("Flow run 'nope' not found\n");
      }
    }, 180_000);
  });
});
