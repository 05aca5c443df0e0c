/** `sluice work-pool create|ls|inspect|set-concurrency-limit|clear-concurrency-limit`. */
import { InvalidInputError } from "@sluice/core";
import { apiClient, type CliConfig } from "../config.js";
import { printJson, renderTable } from "../render-table.js";

function parseLimit(value: string, option: string): number {
  const limit = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(limit)) {
    throw new InvalidInputError(`${option} must be a whole number, got '${value}'`);
  }
  return limit;
}

export async function workPoolCreateCommand(
  name: string,
  options: { concurrencyLimit?: string; limit?: string },
  config: CliConfig,
): Promise<number> {
  const given = options.concurrencyLimit ?? options.limit;
  const limit = given === undefined ? null : parseLimit(given, "--concurrency-limit");
  const pool = await apiClient(config).createWorkPool({ name, type: "process", concurrency_limit: limit });
  process.stdout.write(
    `Work pool '${pool.name}' ready (${pool.id}), ` +
      `${pool.concurrency_limit === null ? "no concurrency limit" : `at most ${pool.concurrency_limit} flow runs at once`}\n`,
  );
  return 0;
}

/**
 * Sets (a number) or removes (null) the most flow runs at once across the pool's workers, or with
 * `--queue`, the most runs of that work queue at once.
 */
export async function workPoolConcurrencyLimitCommand(
  name: string,
  value: string | null,
  options: { queue?: string },
  config: CliConfig,
): Promise<number> {
  const limit = value === null ? null : parseLimit(value, "The concurrency limit");
  const client = apiClient(config);
  if (options.queue) await client.updateWorkQueue(name, options.queue, { concurrency_limit: limit });
  else await client.updateWorkPool(name, { concurrency_limit: limit });
  const what = options.queue ? `Work queue '${options.queue}' of pool '${name}'` : `Work pool '${name}'`;
  process.stdout.write(
    limit === null ? `${what}: concurrency limit removed\n` : `${what}: at most ${limit} flow runs at once\n`,
  );
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
    `Work pool '${health.name}': ${health.status}, concurrency ${health.concurrency_in_use} in use of ` +
      `${health.concurrency_limit ?? "unlimited"}, ` +
      `${health.workers_online} worker(s) online\n` +
      `  flow runs: ${depth(health.flow_runs)}\n  task runs: ${depth(health.task_runs)}\n` +
      health.work_queues
        .map((q) => `  work queue '${q.name}': concurrency ${q.concurrency_in_use} in use of ${q.concurrency_limit}\n`)
        .join("") +
      "\n",
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
