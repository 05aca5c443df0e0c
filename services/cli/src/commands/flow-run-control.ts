/** `sluice flow-run cancel|retry ID`: state changes proposed to the API, which applies the orchestration rules. */
import { apiClient, type CliConfig } from "../config.js";

export async function flowRunCancelCommand(id: string, config: CliConfig): Promise<number> {
  const result = await apiClient(config).setFlowRunState(id, { type: "CANCELLING", message: "Cancelled from the CLI" });
  if (result.status !== "ACCEPT") {
    process.stderr.write(`Flow run ${id} was not cancelled: ${describeRejection(result.details)}\n`);
    return 1;
  }
  process.stdout.write(`Flow run ${id} is ${result.state?.name ?? "Cancelling"}\n`);
  return 0;
}

export async function flowRunRetryCommand(id: string, config: CliConfig): Promise<number> {
  const client = apiClient(config);
  const run = await client.readFlowRun(id);
  if (!run.deployment_id) {
    process.stderr.write(`Flow run ${id} has no deployment: run its flow again with \`npx sluice run FILE\`\n`);
    return 1;
  }
  const result = await client.setFlowRunState(
    id,
    { type: "SCHEDULED", name: "AwaitingRetry", message: "Retried from the CLI" },
    true,
  );
  if (result.status !== "ACCEPT") {
    process.stderr.write(`Flow run ${id} was not retried: ${describeRejection(result.details)}\n`);
    return 1;
  }
  process.stdout.write(
    `Flow run '${run.name}' (${id}) scheduled again; a worker of '${run.work_pool_name}' will pick it up\n`,
  );
  return 0;
}

function describeRejection(details: Record<string, unknown>): string {
  return typeof details.reason === "string" ? details.reason : JSON.stringify(details);
}
