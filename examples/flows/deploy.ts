/**
 * Registers the example deployments with the Sluice server:
 *
 *   npx sluice deploy examples/flows/deploy.ts
 *   npx sluice deployment run "ETL Pipeline/daily-etl" --watch
 */
import { cron } from "@sluice/sdk";
import { dataPipeline } from "./data_pipeline.js";
import { etlPipeline } from "./etl_pipeline.js";

await etlPipeline.deploy({
  name: "daily-etl",
  workPoolName: "default-agent-pool",
  schedule: cron("0 6 * * *", { timezone: "UTC" }),
  parameters: { tableName: "users" },
  tags: ["etl", "daily"],
  description: "Extract users, clean them up, load them into the users table",
});

await dataPipeline.deploy({
  name: "multi-stage",
  workPoolName: "default-agent-pool",
  tags: ["pipeline"],
});
