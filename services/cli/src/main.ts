/** The `sluice` command line. */
import { SluiceError } from "@sluice/core";
import { createLogger } from "@sluice/telemetry";
import { Command, Option } from "commander";
import { registerClusterCommands } from "./cluster-commands.js";
import { runCommand } from "./commands/run.js";
import { loadConfig } from "./config.js";
import { registerStoreCommands } from "./store-commands.js";

const collect = (value: string, previous: string[]) => [...previous, value];

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const logger = createLogger({ service: "sluice-cli", level: config.logLevel });
  let exitCode = 0;
  const program = new Command()
    .name("sluice")
    .description("Sluice: flows and tasks on Redis queues and Postgres")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("run")
    .description("run a flow in this process; its runs, states and logs are recorded")
    .argument("<file>", "flow file, optionally FILE:exportName")
    .option("-p, --param <key=value>", "a flow parameter (JSON values are parsed); repeatable", collect, [])
    .addOption(new Option("--embedded", "force embedded mode (no Redis, no Postgres server)"))
    .action(async (file: string, options: { param: string[]; embedded?: boolean }) => {
      exitCode = await runCommand(file, options, config, logger);
    });

  const context = {
    config,
    logger,
    run: async (action: () => Promise<number>) => {
      exitCode = await action();
    },
  };
  // flow-run ls|inspect|logs, db upgrade|reset: the record of runs, in either mode.
  const flowRun = registerStoreCommands(program, context);
  // server, worker, deploy, deployment, work-pool, flow-run cancel|retry: through the API.
  registerClusterCommands(program, context, flowRun);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error && typeof error === "object" && "exitCode" in error && "code" in error) {
      const code = (error as { exitCode: number; code: string }).code;
      return code === "commander.helpDisplayed" || code === "commander.version" ? 0 : 2;
    }
    throw error;
  }
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof SluiceError ? error.message : error instanceof Error ? error.stack : String(error);
    process.stderr.write(`Error: ${message}\n`);
    process.exitCode = error instanceof SluiceError && error.code === "PARAMETER_VALIDATION" ? 2 : 1;
  },
);
