/** The commands that talk to a Sluice server: server, worker, deploy, deployment, work-pool. */
import type { Logger } from "@sluice/telemetry";
import type { Command } from "commander";
import {
  concurrencyLimitCreateCommand,
  concurrencyLimitDeleteCommand,
  concurrencyLimitInspectCommand,
  concurrencyLimitLsCommand,
  concurrencyLimitResetCommand,
} from "./commands/concurrency-limit.js";
import {
  deploymentInspectCommand,
  deploymentLsCommand,
  deploymentPauseCommand,
  deploymentRunCommand,
} from "./commands/deployment.js";
import { flowRunCancelCommand, flowRunRetryCommand } from "./commands/flow-run-control.js";
import {
  workPoolConcurrencyLimitCommand,
  workPoolCreateCommand,
  workPoolInspectCommand,
  workPoolLsCommand,
} from "./commands/work-pool.js";
import type { CliConfig } from "./config.js";

export interface CommandContext {
  config: CliConfig;
  logger: Logger;
  /** Runs a command's action and keeps its exit code. */
  run(action: () => Promise<number>): Promise<void>;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerClusterCommands(
  program: Command,
  { config, logger, run }: CommandContext,
  flowRun: Command,
): void {
  flowRun
    .command("cancel")
    .description("cancel a flow run: a queued one at once, a running one through its worker")
    .argument("<id>", "flow run id")
    .action((id: string) => run(() => flowRunCancelCommand(id, config)));
  flowRun
    .command("retry")
    .description("run a finished flow run again (its deployment's workers pick it up)")
    .argument("<id>", "flow run id")
    .action((id: string) => run(() => flowRunRetryCommand(id, config)));

  const server = program.command("server").description("the Sluice server: API, scheduler and recorder");
  server
    .command("start")
    .description("start the API on SLUICE_HOST:SLUICE_PORT (default 0.0.0.0:4200) with the scheduler and recorder")
    .option("--services <list>", "comma-separated subset of api,scheduler,recorder", "api,scheduler,recorder")
    .action((options: { services: string }) =>
      run(async () => (await import("./commands/server.js")).serverStartCommand(options, config, logger)),
    );

  program
    .command("worker")
    .description("workers run the flow runs of a work pool")
    .command("start")
    .requiredOption("--pool <name>", "work pool to take flow runs from")
    .option("--limit <n>", "most flow runs at once in this worker", "10")
    .option("--task-limit <n>", "most submitted task runs at once in this worker", "20")
    .option("--flows <dir>", "directory deployment entrypoints are relative to", "examples/flows")
    .option("--name <name>", "worker name (default: host-pid)")
    .option("--metrics-port <port>", "serve Prometheus metrics at http://HOST:PORT/metrics")
    // Loaded on use, like the server: a worker process carries only what it runs.
    .action((options) =>
      run(async () => (await import("./commands/worker.js")).workerStartCommand(options, config, logger)),
    );

  program
    .command("deploy")
    .description("run a deploy script: its flow.deploy(...) calls register deployments")
    .argument("<file>", "deploy script, e.g. examples/flows/deploy.ts")
    .option("--flows-dir <dir>", "directory entrypoints are relative to (default: the script's directory)")
    .action((file: string, options: { flowsDir?: string }) =>
      run(async () => (await import("./commands/deploy.js")).deployCommand(file, options, config)),
    );

  const deployment = program.command("deployment").description("deployments: run, list, inspect, pause, resume");
  deployment
    .command("run")
    .argument("<name>", '"FLOW NAME/DEPLOYMENT NAME"')
    .option(
      "-p, --param <key=value>",
      "a parameter over the deployment's (JSON values are parsed); repeatable",
      collect,
      [],
    )
    .option("--watch", "show the run's states live; exit 0 when it ends Completed")
    .option("--json", "print the flow run as JSON")
    .action((name: string, options) => run(() => deploymentRunCommand(name, options, config)));
  deployment
    .command("ls")
    .option("--json", "print JSON")
    .action((options) => run(() => deploymentLsCommand(options, config)));
  deployment
    .command("inspect")
    .argument("<name>", '"FLOW NAME/DEPLOYMENT NAME"')
    .action((name: string) => run(() => deploymentInspectCommand(name, config)));
  deployment
    .command("pause")
    .argument("<name>", '"FLOW NAME/DEPLOYMENT NAME"')
    .action((name: string) => run(() => deploymentPauseCommand(name, true, config)));
  deployment
    .command("resume")
    .argument("<name>", '"FLOW NAME/DEPLOYMENT NAME"')
    .action((name: string) => run(() => deploymentPauseCommand(name, false, config)));

  const limit = program.command("concurrency-limit").description("tag concurrency limits, across every worker");
  limit
    .command("create")
    .argument("<tag>")
    .argument("<limit>", "most task runs with this tag at once")
    .action((tag: string, value: string) => run(() => concurrencyLimitCreateCommand(tag, value, config)));
  limit
    .command("ls")
    .option("--json", "print JSON")
    .action((options) => run(() => concurrencyLimitLsCommand(options, config)));
  limit
    .command("inspect")
    .argument("<tag>")
    .option("--json", "print JSON")
    .action((tag: string, options) => run(() => concurrencyLimitInspectCommand(tag, options, config)));
  limit
    .command("reset")
    .argument("<tag>")
    .description("free every slot (e.g. held by runs that were killed)")
    .action((tag: string) => run(() => concurrencyLimitResetCommand(tag, config)));
  limit
    .command("delete")
    .argument("<tag>")
    .action((tag: string) => run(() => concurrencyLimitDeleteCommand(tag, config)));

  const workPool = program.command("work-pool").description("work pools: create, list, inspect, concurrency limit");
  workPool
    .command("create")
    .argument("<name>")
    .option("--concurrency-limit <n>", "most flow runs at once across the pool's workers")
    .option("--limit <n>", "same as --concurrency-limit")
    .action((name: string, options) => run(() => workPoolCreateCommand(name, options, config)));
  workPool
    .command("set-concurrency-limit")
    .description("most flow runs at once across the pool's workers (or of one of its work queues)")
    .argument("<name>")
    .argument("<limit>")
    .option("--queue <queue>", "limit this work queue of the pool instead")
    .action((name: string, limit: string, options: { queue?: string }) =>
      run(() => workPoolConcurrencyLimitCommand(name, limit, options, config)),
    );
  workPool
    .command("clear-concurrency-limit")
    .description("no limit on flow runs at once across the pool (or of one of its work queues)")
    .argument("<name>")
    .option("--queue <queue>", "clear this work queue's limit instead")
    .action((name: string, options: { queue?: string }) =>
      run(() => workPoolConcurrencyLimitCommand(name, null, options, config)),
    );
  workPool
    .command("ls")
    .option("--json", "print JSON")
    .action((options) => run(() => workPoolLsCommand(options, config)));
  workPool
    .command("inspect")
    .argument("<name>")
    .option("--json", "print JSON")
    .action((name: string, options) => run(() => workPoolInspectCommand(name, options, config)));
}
