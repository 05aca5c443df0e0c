/** `sluice work-pool create|ls|inspect`. */
import { apiClient, type CliConfig } from "../config.js";
import { printJson, renderTable } from "../render-table.js";

export async function workPoolCreateCommand(
  name: string,
  options: { limit?: string },
  config: CliConfig,
): Promise<number> {
  const limit = options.limit === undefined ? null : Number(options.limit);
  if (limit !== null && (!Number.isInteger(limit) || limit < 0))
    throw new Error(`--limit must be a whole number, got '${options.limit}'`);
  const pool = await apiClient(config).createWorkPool({ name, type: "process", concurrency_limit: limit });
  process.stdout.write(`Work pool '${pool.name}' ready (${pool.id})\n`);
  return 0;
}

export async function workPoolLsCommand(options: { json?: boolean }, config: CliConfig): Promise<number> {
  const pools = await apiClient(config).filterWorkPools({});
  if (options.json) printJson(pools);
  else
    process.stdout.write(
      `${renderTable(
        ["NAME", "ID", "TYPE", "CONCURRENCY", "PAUSED"],
        pools.map((p) => [p.name, p.id, p.type, p.concurrency_limit ?? "unlimited", p.is_paused ? "yes" : "no"]),
      )}\n`,
    );
  return 0;
}

export async function workPoolInspectCommand(
  name: string,
  options: { json?: boolean },
  config: CliConfig,
): Promise<number> {
  const health = await apiClient(config).readWorkPoolHealth(name);
  if (options.json) {
    printJson(health);
    return 0;
  }
  const depth = (d: { waiting: number; running: number; delayed: number; failed: number }) =>
    `${d.waiting} waiting, ${d.running} running, ${d.delayed} scheduled, ${d.failed} failed`;
  process.stdout.write(
    `Work pool '${health.name}': ${health.status}, concurrency ${health.concurrency_limit ?? "unlimited"}, ` +
      `${health.workers_online} worker(s) online\n` +
      `  flow runs: ${depth(health.flow_runs)}\n  task runs: ${depth(health.task_runs)}\n\n`,
  );
  process.stdout.write(
    health.workers.length === 0
      ? `No workers yet: start one with \`npx sluice worker start --pool ${health.name}\`\n`
      : `${renderTable(
          ["WORKER", "STATUS", "LAST HEARTBEAT"],
          health.workers.map((w) => [w.name, w.status, w.last_heartbeat_time]),
        )}\n`,
  );
  return 0;
}
