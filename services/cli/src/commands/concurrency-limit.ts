/** `sluice concurrency-limit create|ls|inspect|reset|delete`: Prefect's tag concurrency limits, through the API. */
import type { ApiConcurrencyLimit } from "@sluice/client";
import { InvalidInputError } from "@sluice/core";
import { apiClient, type CliConfig } from "../config.js";
import { printJson, renderTable } from "../render-table.js";

function describeLimit(limit: ApiConcurrencyLimit): string {
  return `Tag '${limit.tag}': at most ${limit.concurrency_limit} task runs at once, ${limit.active_slots.length} slot(s) in use`;
}

export async function concurrencyLimitCreateCommand(tag: string, value: string, config: CliConfig): Promise<number> {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 0)
    throw new InvalidInputError(`The limit must be a whole number, got '${value}'`);
  process.stdout.write(`${describeLimit(await apiClient(config).createConcurrencyLimit(tag, limit))}\n`);
  return 0;
}

export async function concurrencyLimitLsCommand(options: { json?: boolean }, config: CliConfig): Promise<number> {
  const limits = await apiClient(config).filterConcurrencyLimits({});
  if (options.json) printJson(limits);
  else if (limits.length === 0)
    process.stdout.write("No concurrency limits: create one with `npx sluice concurrency-limit create TAG N`\n");
  else
    process.stdout.write(
      `${renderTable(
        ["TAG", "LIMIT", "IN USE", "ID"],
        limits.map((l) => [l.tag, l.concurrency_limit, l.active_slots.length, l.id]),
      )}\n`,
    );
  return 0;
}

export async function concurrencyLimitInspectCommand(
  tag: string,
  options: { json?: boolean },
  config: CliConfig,
): Promise<number> {
  const limit = await apiClient(config).readConcurrencyLimit(tag);
  if (options.json) printJson(limit);
  else {
    process.stdout.write(`${describeLimit(limit)}\n`);
    for (const holder of limit.active_slots) process.stdout.write(`  held by task run ${holder}\n`);
  }
  return 0;
}

export async function concurrencyLimitResetCommand(tag: string, config: CliConfig): Promise<number> {
  await apiClient(config).resetConcurrencyLimit(tag);
  process.stdout.write(`Freed every slot of tag '${tag}'\n`);
  return 0;
}

export async function concurrencyLimitDeleteCommand(tag: string, config: CliConfig): Promise<number> {
  await apiClient(config).deleteConcurrencyLimit(tag);
  process.stdout.write(`Deleted the concurrency limit of tag '${tag}'\n`);
  return 0;
}
