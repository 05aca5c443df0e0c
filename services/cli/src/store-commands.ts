/** The commands that read or manage the record of runs, in either mode: `flow-run ls|inspect|logs`, `db upgrade|reset`. */
import { type Command, Option } from "commander";
import type { CommandContext } from "./cluster-commands.js";
import { dbResetCommand, dbUpgradeCommand } from "./commands/db.js";
import { flowRunInspectCommand, flowRunLogsCommand, flowRunLsCommand } from "./commands/flow-run.js";

const embeddedOption = () => new Option("--embedded", "use the embedded store in SLUICE_HOME whatever is reachable");

/** Registers the commands; returns the `flow-run` command, for more subcommands (cancel, retry). */
export function registerStoreCommands(program: Command, { config, run }: CommandContext): Command {
  const flowRun = program.command("flow-run").description("flow runs: list, inspect, logs");
  flowRun
    .command("ls")
    .description("list flow runs, newest first")
    .option("--limit <n>", "how many", "20")
    .option("--json", "print JSON")
    .addOption(embeddedOption())
    .action((options) => run(() => flowRunLsCommand(options, config)));
  flowRun
    .command("inspect")
    .description("a flow run's states, task runs, parameters and result")
    .argument("<id>", "flow run id (or a unique prefix of it)")
    .option("--json", "print JSON")
    .addOption(embeddedOption())
    .action((id: string, options) => run(() => flowRunInspectCommand(id, options, config)));
  flowRun
    .command("logs")
    .description("a flow run's log lines, oldest first")
    .argument("<id>", "flow run id (or a unique prefix of it)")
    .option("--json", "print JSON")
    .addOption(embeddedOption())
    .action((id: string, options) => run(() => flowRunLogsCommand(id, options, config)));

  const db = program.command("db").description("manage Sluice's database (Postgres, or the embedded one)");
  db.command("upgrade")
    .description("create the database if missing and apply migrations (safe to repeat)")
    .addOption(embeddedOption())
    .action((options) => run(() => dbUpgradeCommand(config, options)));
  db.command("reset")
    .description("delete everything in the database, after a confirmation")
    .option("--yes", "confirm deleting everything without asking")
    .addOption(embeddedOption())
    .action((options) => run(() => dbResetCommand(config, options)));
  return flowRun;
}
