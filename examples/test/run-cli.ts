/** Runs the `sluice` command as a user would, against a test's own database and Redis prefix. */
import { type CliResult, spawnSluice, type TestContext } from "@sluice/testing";

export function runSluice(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return spawnSluice(args, { env: { ...process.env, LOG_LEVEL: "warn", ...env } }).result;
}

export function clusterEnv(ctx: TestContext): Record<string, string> {
  return { SLUICE_DATABASE_URL: ctx.databaseUrl, SLUICE_REDIS_URL: ctx.redisUrl, SLUICE_REDIS_PREFIX: ctx.prefix };
}
