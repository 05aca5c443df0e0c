/** Read access to the record of runs in whichever store the mode points at (`flow-run ls|inspect|logs`). */
import { type AnySluiceDb, createDatabase, migrateDatabase, openEmbeddedStore } from "@sluice/db";
import type { CliConfig } from "../config.js";
import type { ModeChoice } from "./choose.js";
import type { OpenStoreOptions } from "./embedded.js";

export interface RunStore {
  db: AnySluiceDb;
  close(): Promise<void>;
}

export async function openRunStore(
  choice: ModeChoice,
  config: CliConfig,
  options: OpenStoreOptions = {},
): Promise<RunStore> {
  if (choice.kind === "cluster") {
    await migrateDatabase(config.databaseUrl);
    const database = createDatabase(config.databaseUrl, { applicationName: "sluice-cli", max: 2 });
    return { db: database.db, close: () => database.close() };
  }
  const store = await openEmbeddedStore(choice.home, { onWaiting: options.onWaiting });
  options.onRecovered?.(store.recovered);
  return { db: store.database.db, close: () => store.close() };
}
