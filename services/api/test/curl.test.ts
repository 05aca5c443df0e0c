/**
 * The two curl commands of the README (as Prefect users write them), run verbatim through a shell
 * against a started server; only the base URL is swapped for the test server's.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type ApiHarness, createDeployment, startApi } from "./support.js";

const run = promisify(execFile);

const CREATE_FLOW_RUN = `curl -X POST http://localhost:4200/api/deployments/$(curl -s http://localhost:4200/api/deployments/filter -H "Content-Type: application/json" -d '{"deployments":{"name":{"any_":["daily-etl"]}}}' | jq -r '.[0].id')/create_flow_run \\
  -H "Content-Type: application/json"`;

const LIST_FLOW_RUNS = `curl -s http://localhost:4200/api/flow_runs/filter \\
  -H "Content-Type: application/json" \\
  -d '{"sort": "EXPECTED_START_TIME_DESC", "limit": 5}' | jq '.[] | {name: .name, state: .state_name}'`;

let api: ApiHarness;

beforeEach(async () => {
  api = await startApi();
});

afterEach(async () => {
  await api.close();
});

async function shell(command: string): Promise<string> {
  const { stdout } = await run("bash", [
    "-o",
    "pipefail",
    "-c",
    command.replaceAll("http://localhost:4200", api.baseUrl),
  ]);
  return stdout;
}

it("creates a flow run of daily-etl and lists it with its state, through curl and jq", async () => {
  const deployment = await createDeployment(api);

  const created = JSON.parse(await shell(CREATE_FLOW_RUN));
  expect(created).toMatchObject({ deployment_id: deployment.id, state_name: "Scheduled" });
  expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
  const rows = await api.query("SELECT name FROM flow_runs WHERE id = $1", [created.id]);
  expect(rows).toEqual([{ name: created.name }]);

  const listed = (await shell(LIST_FLOW_RUNS))
    .trim()
    .split(/\n(?=\{)/)
    .map((entry) => JSON.parse(entry));
  expect(listed[0]).toEqual({ name: created.name, state: "Scheduled" });
});
