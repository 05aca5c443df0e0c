/**
 * Runs `sluice` as a user on a laptop with only Node would: in embedded mode, with a SLUICE_HOME of
 * its own, and with Redis and Postgres unreachable. The command runs in a network namespace of its
 * own (only a loopback interface, where nothing listens on 6379 or 5432), so it finds no servers
 * at the defaults by itself. Where namespaces are not permitted it falls back to SLUICE_EMBEDDED=1.
 */
import { spawnSync } from "node:child_process";
import { type EmbeddedStore, openEmbeddedStore } from "@sluice/db";
import { type CliResult, type SluiceCommand, spawnSluice } from "@sluice/testing";
import { expect } from "vitest";

function probeNetworkNamespace(): { isolated: true } | { isolated: false; why: string } {
  const probe = spawnSync("unshare", ["--net", "sh", "-c", "ip link set lo up"], { encoding: "utf8" });
  if (probe.status === 0) return { isolated: true };
  return { isolated: false, why: (probe.error?.message ?? probe.stderr).trim() || `exit ${probe.status}` };
}

export const NETWORK = probeNetworkNamespace();

/** How the tests reach embedded mode, for their names. */
export const ISOLATION = NETWORK.isolated
  ? "no Redis or Postgres reachable (own network namespace)"
  : `SLUICE_EMBEDDED=1 (no network namespace: ${NETWORK.why})`;

/** The mode line `sluice run` prints first in these conditions. */
export function expectedModeLine(home: string): string {
  const why = NETWORK.isolated ? ": no Redis/Postgres found at the defaults;" : " (SLUICE_EMBEDDED=1):";
  return `Sluice embedded mode${why} runs recorded in ${home} (PGlite)`;
}

export function spawnSluiceEmbedded(args: string[], home: string): SluiceCommand {
  const env: Record<string, string | undefined> = { ...process.env, SLUICE_HOME: home, LOG_LEVEL: "warn" };
  for (const name of ["SLUICE_DATABASE_URL", "SLUICE_REDIS_URL", "SLUICE_EMBEDDED", "SLUICE_API_URL"]) delete env[name];
  return NETWORK.isolated
    ? // `exec`: the node process replaces sh (and unshare before it), so child.pid is the CLI's pid.
      spawnSluice(args, { env, wrapper: ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sluice"] })
    : spawnSluice(args, { env: { ...env, SLUICE_EMBEDDED: "1" } });
}

export function runSluiceEmbedded(args: string[], home: string): Promise<CliResult> {
  return spawnSluiceEmbedded(args, home).result;
}

/** Resolves once `predicate` holds for the command's output (polling), or rejects after `timeoutMs`. */
export async function waitForOutput(
  cli: SluiceCommand,
  predicate: (output: { stdout: string; stderr: string }) => boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate(cli.output())) {
    if (cli.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`Output never matched; got:\n${JSON.stringify(cli.output(), null, 2)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface FlowRunJson {
  id: string;
  name: string;
  flow_name: string;
  state_name: string;
  parent_task_run_id: string | null;
}

/** Reads the store a finished command left behind (taking the store lock like any process). */
export async function withStore<T>(home: string, read: (query: StoreQuery) => Promise<T>): Promise<T> {
  const store: EmbeddedStore = await openEmbeddedStore(home);
  try {
    return await read(async (sql, params) => (await store.database.client.query(sql, params)).rows as never);
  } finally {
    await store.close();
  }
}
export type StoreQuery = <Row = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<Row[]>;

export async function flowRunsJson(home: string): Promise<FlowRunJson[]> {
  const ls = await runSluiceEmbedded(["flow-run", "ls", "--json"], home);
  expect(ls.code).toBe(0);
  return JSON.parse(ls.stdout) as FlowRunJson[];
}
