/**
 * `sluice db upgrade|reset`: create and migrate Sluice's database, or clear it, in whichever store
 * the mode points at (the Postgres database in cluster mode, the PGlite one in SLUICE_HOME in
 * embedded mode).
 */
import { createInterface } from "node:readline/promises";
import { dropDatabase, embeddedDataDir, migrateDatabase, openEmbeddedStore, resetEmbeddedStore } from "@sluice/db";
import { type CliConfig, redactUrl } from "../config.js";
import { chooseMode } from "../modes/choose.js";
import { consoleStoreNotices } from "../modes/embedded.js";

export async function dbUpgradeCommand(config: CliConfig, options: { embedded?: boolean } = {}): Promise<number> {
  const mode = await chooseMode(config, options);
  if (mode.kind === "embedded") {
    process.stdout.write(`Migrating the embedded database in ${embeddedDataDir(mode.home)}…\n`);
    const store = await openEmbeddedStore(mode.home, consoleStoreNotices(mode.home));
    await store.close();
  } else {
    process.stdout.write(`Migrating ${redactUrl(config.databaseUrl)}…\n`);
    await migrateDatabase(config.databaseUrl);
  }
  process.stdout.write("Database is up to date.\n");
  return 0;
}

export async function dbResetCommand(
  config: CliConfig,
  options: { yes?: boolean; embedded?: boolean },
  terminal: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream } = process,
): Promise<number> {
  const mode = await chooseMode(config, options);
  const what =
    mode.kind === "embedded"
      ? `the embedded database in ${embeddedDataDir(mode.home)}`
      : `the Postgres database ${redactUrl(config.databaseUrl)}`;
  const warning = `This deletes every run, state, log, cached result and table in ${what}.`;
  if (!options.yes) {
    if (!terminal.stdin.isTTY || !terminal.stdout.isTTY) {
      process.stderr.write(`${warning} Nobody is at a terminal to confirm: run again with --yes.\n`);
      return 2;
    }
    if (!(await confirm(`${warning} Continue? [y/N] `, terminal))) {
      process.stderr.write("Nothing was deleted.\n");
      return 2;
    }
  }
  if (mode.kind === "embedded") {
    const existed = await resetEmbeddedStore(mode.home, consoleStoreNotices(mode.home));
    process.stdout.write(
      existed
        ? `Cleared ${what}; it starts empty on next use.\n`
        : `There was no embedded database in ${mode.home}: nothing to clear.\n`,
    );
    return 0;
  }
  await dropDatabase(config.databaseUrl);
  await migrateDatabase(config.databaseUrl);
  process.stdout.write(`Database ${redactUrl(config.databaseUrl)} was reset.\n`);
  return 0;
}

async function confirm(question: string, terminal: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream }) {
  const prompt = createInterface({ input: terminal.stdin, output: terminal.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}
