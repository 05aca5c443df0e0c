/** `sluice db upgrade|reset`: create and migrate Sluice's database. */
import { dropDatabase, migrateDatabase } from "@sluice/db";
import { type CliConfig, redactUrl } from "../config.js";

export async function dbUpgradeCommand(config: CliConfig): Promise<number> {
  process.stdout.write(`Migrating ${redactUrl(config.databaseUrl)}…\n`);
  await migrateDatabase(config.databaseUrl);
  process.stdout.write("Database is up to date.\n");
  return 0;
}

export async function dbResetCommand(config: CliConfig, options: { yes?: boolean }): Promise<number> {
  if (!options.yes) {
    process.stderr.write(
      `This deletes every run, log and deployment in ${redactUrl(config.databaseUrl)}. Run again with --yes to confirm.\n`,
    );
    return 2;
  }
  await dropDatabase(config.databaseUrl);
  await migrateDatabase(config.databaseUrl);
  process.stdout.write(`Database ${redactUrl(config.databaseUrl)} was reset.\n`);
  return 0;
}
