/** Chooses the run mode once, at start-up, and says why. */
import { UnavailableError } from "@sluice/core";
import type { Logger } from "@sluice/telemetry";
import { type CliConfig, redactUrl } from "../config.js";
import { type RunningEngine, startClusterEngine } from "./cluster.js";
import { postgresAnswers, redisAnswers } from "./reachability.js";

export async function chooseEngine(
  config: CliConfig,
  logger: Logger,
  _options: { embedded?: boolean } = {},
): Promise<RunningEngine> {
  const [redisUp, postgresUp] = await Promise.all([
    redisAnswers(config.redisUrl),
    postgresAnswers(config.databaseUrl),
  ]);
  if (!redisUp && config.redisUrlConfigured) {
    throw new UnavailableError(`Redis at ${redactUrl(config.redisUrl)} (SLUICE_REDIS_URL) is not reachable`);
  }
  if (!postgresUp && config.databaseUrlConfigured) {
    throw new UnavailableError(`Postgres at ${redactUrl(config.databaseUrl)} (SLUICE_DATABASE_URL) is not reachable`);
  }
  if (redisUp && postgresUp) return startClusterEngine(config, logger);
  const missing = [!redisUp && `Redis at ${redactUrl(config.redisUrl)}`, !postgresUp && `Postgres at ${redactUrl(config.databaseUrl)}`]
    .filter(Boolean)
    .join(" and ");
  throw new UnavailableError(
    `${missing} not reachable: start them (see README), or set SLUICE_REDIS_URL / SLUICE_DATABASE_URL`,
  );
}
