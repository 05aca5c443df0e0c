/** `sluice deploy FILE`: runs a deploy script; its `flow.deploy(...)` calls register deployments through the API. */
import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { InvalidInputError } from "@sluice/core";
import {
  configureDeployTarget,
  type DeploymentSpec,
  exportNameOf,
  type Flow,
  importUserModule,
  type ScheduleSpec,
} from "@sluice/sdk";
import { apiClient, type CliConfig } from "../config.js";

export async function deployCommand(file: string, options: { flowsDir?: string }, config: CliConfig): Promise<number> {
  const script = resolve(file);
  if (!existsSync(script)) throw new InvalidInputError(`No such file: ${file}`);
  // Entrypoints are relative to the flows directory workers load code from: by default the script's own.
  const flowsDir = resolve(options.flowsDir ?? dirname(script));
  const client = apiClient(config);
  let count = 0;
  configureDeployTarget({
    deploy: async (flow: Flow<unknown, unknown>, spec: DeploymentSpec) => {
      const definedIn = flow.definedIn;
      if (!definedIn) throw new InvalidInputError(`Cannot tell which file defines flow '${spec.flowName}'`);
      if (resolve(definedIn) === script) {
        // Its exports cannot be read while it is still running: workers need a module to import.
        throw new InvalidInputError(
          `Flow '${spec.flowName}' is defined in the deploy script itself: define it in its own module and import it into ${file}`,
        );
      }
      const entrypoint = `${relative(flowsDir, definedIn)}:${await exportNameOf(flow, definedIn)}`;
      if (entrypoint.startsWith("..")) {
        throw new InvalidInputError(`${definedIn} is outside the flows directory ${flowsDir}: pass --flows-dir`);
      }
      const createdFlow = await client.createFlow(spec.flowName);
      const deployment = await client.createDeployment({
        name: spec.name,
        flow_id: createdFlow.id,
        entrypoint,
        parameters: spec.parameters,
        parameter_openapi_schema: spec.parameterSchema,
        tags: spec.tags,
        description: spec.description,
        work_pool_name: spec.workPoolName,
        work_queue_name: spec.workQueueName,
        paused: spec.paused,
        concurrency_limit: spec.concurrencyLimit,
        concurrency_options: spec.collisionStrategy ? { collision_strategy: spec.collisionStrategy } : null,
        schedules: spec.schedules.map((schedule) => ({ active: true, schedule: toApiSchedule(schedule) })),
      });
      count++;
      process.stdout.write(
        `Deployment '${spec.flowName}/${spec.name}' registered (${deployment.id}), entrypoint ${entrypoint}, ` +
          `work pool '${spec.workPoolName}'${spec.schedules.length ? `, ${spec.schedules.length} schedule(s)` : ""}\n`,
      );
      return { id: deployment.id };
    },
  });
  try {
    await importUserModule(script);
  } finally {
    configureDeployTarget(undefined);
  }
  if (count === 0) {
    process.stderr.write(`${file} registered no deployment: call myFlow.deploy({ name, ... }) in it\n`);
    return 1;
  }
  process.stdout.write(`Run one with: npx sluice deployment run "FLOW/DEPLOYMENT" --watch\n`);
  return 0;
}

function toApiSchedule(schedule: ScheduleSpec): Record<string, unknown> {
  return schedule.kind === "cron"
    ? { cron: schedule.cron, timezone: schedule.timezone }
    : { interval: schedule.intervalSeconds, anchor_date: schedule.anchorDate, timezone: schedule.timezone };
}
