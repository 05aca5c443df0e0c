/**
 * Chooses the run mode once, at start-up, and says why: cluster mode when Redis and Postgres are
 * configured or answer at the defaults, embedded mode otherwise (or when forced with --embedded /
 * SLUICE_EMBEDDED=1). Redis or Postgres configured explicitly but unreachable is an error naming
 * the URL, never a silent fallback.
 */
import { UnavailableError } from "@sluice/core";
import type { Logger } from "@sluice/telemetry";
import { type CliConfig, redactUrl } from "../config.js";
import { type RunningEngine, startClusterEngine } from "./cluster.js";
import { type OpenStoreOptions, startEmbeddedEngine } from "./embedded.js";
import { postgresAnswers, redisAnswers } from "./reachability.js";

export type ModeChoice =
  | { kind: "cluster" /** The mode line: "Sluice cluster mode: …". */; line: string }
  | { kind: "embedded"; line: string; home: string };

/** Probes at the default URLs fail fast: nothing listening on localhost answers at once. */
const DEFAULT_URL_PROBE_MS = 300;
/** A URL the user configured may be a remote server: give it longer. */
const CONFIGURED_URL_PROBE_MS = 2000;

export async function chooseMode(config: CliConfig, options: { embedded?: boolean } = {}): Promise<ModeChoice> {
  if (options.embedded) return embedded(config, " (--embedded):");
  if (config.embedded) return embedded(config, " (SLUICE_EMBEDDED=1):");
  const redisUrl = redactUrl(config.redisUrl);
  const postgresUrl = redactUrl(config.databaseUrl);
  const [redisUp, postgresUp] = await Promise.all([
    redisAnswers(config.redisUrl, config.redisUrlConfigured ? CONFIGURED_URL_PROBE_MS : DEFAULT_URL_PROBE_MS),
    postgresAnswers(config.databaseUrl, config.databaseUrlConfigured ? CONFIGURED_URL_PROBE_MS : DEFAULT_URL_PROBE_MS),
  ]);
  if (!redisUp && config.redisUrlConfigured) {
    throw new UnavailableError(`Redis at ${redisUrl} (SLUICE_REDIS_URL) is not reachable`);
  }
  if (!postgresUp && config.databaseUrlConfigured) {
    throw new UnavailableError(`Postgres at ${postgresUrl} (SLUICE_DATABASE_URL) is not reachable`);
  }
  if (redisUp && postgresUp) {
    return { kind: "cluster", line: `Sluice cluster mode: Redis ${redisUrl}, Postgres ${postgresUrl}` };
  }
  const missing = !redisUp ? `Redis at ${redisUrl}` : `Postgres at ${postgresUrl}`;
  if (config.redisUrlConfigured || config.databaseUrlConfigured) {
    // Half a cluster was configured: the user meant cluster mode, so do not fall back quietly.
    const given = config.redisUrlConfigured ? "SLUICE_REDIS_URL" : "SLUICE_DATABASE_URL";
    throw new UnavailableError(
      `${missing} is not reachable, and cluster mode (${given} is set) needs both Redis and Postgres: ` +
        `start it, configure it, or unset ${given} for embedded mode`,
    );
  }
  if (!redisUp && !postgresUp) return embedded(config, ": no Redis/Postgres found at the defaults;");
  return embedded(config, `: no ${missing} (cluster mode needs Redis and Postgres);`);
}

/** `why` reads between "Sluice embedded mode" and "runs recorded in …", punctuation included. */
function embedded(config: CliConfig, why: string): ModeChoice {
  return {
    kind: "embedded",
    home: config.home,
    line: `Sluice embedded mode${why} runs recorded in ${config.home} (PGlite)`,
  };
}

/** Starts the engine of the chosen mode (embedded: waits while another process uses the store). */
export function startEngine(
  choice: ModeChoice,
  config: CliConfig,
  logger: Logger,
  options: OpenStoreOptions = {},
): Promise<RunningEngine> {
  return choice.kind === "cluster" ? startClusterEngine(config, logger) : startEmbeddedEngine(config, logger, options);
}

/** Chooses the mode and starts its engine (`description` says which mode it is). */
export async function chooseEngine(
  config: CliConfig,
  logger: Logger,
  options: { embedded?: boolean } & OpenStoreOptions = {},
): Promise<RunningEngine> {
  return startEngine(await chooseMode(config, options), config, logger, options);
}
