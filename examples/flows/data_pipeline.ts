/**
 * The multi-stage example: a parent flow calling two subflows, each its own flow run linked to
 * the parent.
 *
 *   npx sluice run examples/flows/data_pipeline.ts
 */
import { flow, getRunLogger, task } from "@sluice/sdk";
import { z } from "zod";
import { fixtureUrl, withUsersFixture } from "./fixtures/users-server.js";

type Record_ = { id?: unknown; email?: unknown; name?: unknown; [key: string]: unknown };

export const fetchRecords = task({ name: "fetch_records", retries: 2, retryDelaySeconds: 1 }, async (url: string) =>
  withUsersFixture(url, async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    return (await response.json()) as Record_[];
  }),
);

export const validateRecords = task({ name: "validate_records" }, async (records: Record_[]) => {
  const valid = records.filter((record) => record.id !== undefined && typeof record.email === "string" && record.email);
  getRunLogger().info(`${valid.length} of ${records.length} records have an id and an email`);
  return valid;
});

export const enrichRecords = task({ name: "enrich_records" }, async (records: Record_[]) =>
  records.map((record) => ({
    ...record,
    domain: String(record.email).split("@")[1] ?? null,
    name_length: typeof record.name === "string" ? record.name.length : 0,
  })),
);

export const ingestStage = flow(
  { name: "Stage 1 - Ingest", parameters: z.object({ url: z.string().url() }) },
  async ({ url }) => validateRecords(await fetchRecords(url)),
);

export const enrichStage = flow({ name: "Stage 2 - Enrich" }, async ({ records }: { records: Record_[] }) =>
  enrichRecords(records),
);

export const dataPipeline = flow(
  {
    name: "Full Data Pipeline",
    logPrints: true,
    parameters: z.object({ url: z.string().url().default(fixtureUrl()) }),
  },
  async ({ url }) => {
    const ingested = await ingestStage({ url });
    const enriched = await enrichStage({ records: ingested });
    console.log(`Pipeline complete: ${enriched.length} records ingested and enriched`);
    return { count: enriched.length, domains: [...new Set(enriched.map((record) => record.domain))].length };
  },
);

/** `sluice run examples/flows/data_pipeline.ts` runs this one. */
export default dataPipeline;
