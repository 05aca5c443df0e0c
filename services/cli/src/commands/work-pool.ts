/** `sluice work-pool create|ls|inspect`. */
import { SluiceClient } from "@sluice/client";
import type { CliConfig } from "../config.js";
import { printJson, renderTable } from "../render-table.js";

function clientFor(config: CliConfig): SluiceClient {
  return new SluiceClient({ apiUrl: config.apiUrl, apiKey: config.apiKey });
}

export async function workPoolCreateCommand(
  name: string,
  options: { limit?: string },
  config: CliConfig,
): Promise<number> {
  const limit = options.limit === undefined ? null : Number(options.limit);
  if (limit !== null && (!Number.isInteger(limit) || limit < 0))
    throw new Error(`--limit must be a whole number, got '${options.limit}'`);
  const pool = await clientFor(config).createWorkPool({ name, type: "process", concurrency_limit: limit });
  process.stdout.write(`Work pool '${pool.name}' ready (${pool.id})\n`);
  return 0;
}

export async function workPoolLsCommand(options: { json?: boolean }, config: CliConfig): Promise<number> {
  const pools = await clientFor(config).filterWorkPools({});
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
  const client = clientFor(config);
  const [pool, workers] = await Promise.all([client.readWorkPool(name), client.filterWorkers(name)]);
  if (options.json) {
    printJson({ ...pool, workers });
    return 0;
  }
  process.stdout.write(
    `Work pool '${pool.name}' (${pool.id}), type ${pool.type}, concurrency ${pool.concurrency_limit ?? "unlimited"}${pool.is_paused ? ", paused" : ""}\n\n`,
  );
  process.stdout.write(
    workers.length === 0
      ? `No workers yet: start one with \`npx sluice worker start --pool ${pool.name}\`\n`
      : `${renderTable(
          ["WORKER", "STATUS", "LAST HEARTBEAT"],
          workers.map((w) => [w.name, w.status, w.last_heartbeat_time]),
        )}\n`,
  );
  return 0;
}
