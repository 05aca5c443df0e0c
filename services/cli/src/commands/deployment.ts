/** `sluice deployment run|ls|inspect|pause|resume`. */
import type { ApiDeployment, ApiFlowRun, SluiceClient } from "@sluice/client";
import { InvalidInputError, isTerminal, type StateType } from "@sluice/core";
import { parseParams } from "@sluice/sdk";
import { apiClient, type CliConfig } from "../config.js";
import { printJson, renderTable } from "../render-table.js";

/** "Flow name/deployment name" → the deployment. */
async function findDeployment(client: SluiceClient, fullName: string): Promise<ApiDeployment> {
  const slash = fullName.lastIndexOf("/");
  if (slash <= 0 || slash === fullName.length - 1) {
    throw new InvalidInputError(`Deployment '${fullName}' must be written "FLOW NAME/DEPLOYMENT NAME"`);
  }
  return client.readDeploymentByName(fullName.slice(0, slash), fullName.slice(slash + 1));
}

export async function deploymentRunCommand(
  fullName: string,
  options: { param: string[]; watch?: boolean; json?: boolean },
  config: CliConfig,
): Promise<number> {
  const client = apiClient(config);
  const deployment = await findDeployment(client, fullName);
  const run = await client.createFlowRunFromDeployment(deployment.id, { parameters: parseParams(options.param) });
  if (!options.watch) {
    if (options.json) printJson(run);
    else process.stdout.write(`Created flow run '${run.name}' (${run.id}) of '${fullName}', state ${run.state_name}\n`);
    return 0;
  }
  process.stdout.write(
    `Created flow run '${run.name}' (${run.id}); watching its state (Ctrl-C stops watching, not the run)\n`,
  );
  const final = await watchFlowRun(client, run);
  if (options.json) printJson(final);
  return final.state_type === "COMPLETED" ? 0 : 1;
}

/** Prints each state the run goes through until it is terminal. */
export async function watchFlowRun(client: SluiceClient, run: ApiFlowRun, pollMs = 250): Promise<ApiFlowRun> {
  let current = run;
  let shown = "";
  let traceShown = false;
  for (;;) {
    // Known from the start when the API traces the request, else once a tracing worker starts the run.
    if (current.trace_id && !traceShown) {
      process.stdout.write(`Trace ID: ${current.trace_id}\n`);
      traceShown = true;
    }
    const label = `${current.state_name ?? "?"}`;
    if (label !== shown) {
      const at = (current.state?.timestamp ?? new Date().toISOString()).slice(11, 23);
      const message = current.state?.message ? ` - ${current.state.message}` : "";
      process.stdout.write(`${at} | flow run '${current.name}' is ${label}${message}\n`);
      shown = label;
    }
    if (current.state_type && isTerminal(current.state_type as StateType)) return current;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    current = await client.readFlowRun(run.id);
  }
}

export async function deploymentLsCommand(options: { json?: boolean }, config: CliConfig): Promise<number> {
  const client = apiClient(config);
  const deployments = await client.filterDeployments({ sort: "NAME_ASC" });
  if (options.json) {
    printJson(deployments);
    return 0;
  }
  if (deployments.length === 0) {
    process.stdout.write("No deployments yet: register one with `npx sluice deploy examples/flows/deploy.ts`\n");
    return 0;
  }
  const flowNames = new Map<string, string>();
  for (const deployment of deployments) {
    if (!flowNames.has(deployment.flow_id))
      flowNames.set(deployment.flow_id, (await client.readFlow(deployment.flow_id)).name);
  }
  process.stdout.write(
    `${renderTable(
      ["NAME", "ID", "WORK POOL", "SCHEDULE", "CONCURRENCY", "PAUSED"],
      deployments.map((d) => [
        `${flowNames.get(d.flow_id)}/${d.name}`,
        d.id,
        d.work_pool_name,
        d.schedules
          .map((s) =>
            "cron" in s.schedule
              ? `${s.schedule.cron} (${s.schedule.timezone ?? "UTC"})`
              : `every ${s.schedule.interval}s`,
          )
          .join(", "),
        concurrencyOf(d),
        d.paused ? "yes" : "no",
      ]),
    )}\n`,
  );
  return 0;
}

/** "1 in use of 2 (ENQUEUE)", or "unlimited". */
function concurrencyOf(deployment: ApiDeployment): string {
  const limit = deployment.concurrency_limit;
  if (limit === null || limit === undefined) return "unlimited";
  const strategy = deployment.concurrency_options?.collision_strategy ?? "ENQUEUE";
  return `${deployment.global_concurrency_limit?.active_slots ?? 0} in use of ${limit} (${strategy})`;
}

export async function deploymentInspectCommand(fullName: string, config: CliConfig): Promise<number> {
  printJson(await findDeployment(apiClient(config), fullName));
  return 0;
}

export async function deploymentPauseCommand(fullName: string, paused: boolean, config: CliConfig): Promise<number> {
  const client = apiClient(config);
  const deployment = await findDeployment(client, fullName);
  if (paused) await client.pauseDeployment(deployment.id);
  else await client.resumeDeployment(deployment.id);
  process.stdout.write(`Deployment '${fullName}' ${paused ? "paused: no new scheduled runs" : "resumed"}\n`);
  return 0;
}
