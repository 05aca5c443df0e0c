/** `sluice run FILE[:export] [--param k=v]`: runs a flow in this process, recorded like any other run. */
import { configureEngine, type Flow, loadFlow, parseParams } from "@sluice/sdk";
import { type Logger, startTelemetry } from "@sluice/telemetry";
import type { CliConfig } from "../config.js";
import { chooseMode, startEngine } from "../modes/choose.js";
import { consoleStoreNotices } from "../modes/embedded.js";

export async function runCommand(
  target: string,
  options: { param: string[]; embedded?: boolean },
  config: CliConfig,
  logger: Logger,
): Promise<number> {
  const params = parseParams(options.param);
  const selectedFlow = await loadFlow(target);
  // Validate before connecting anything: invalid parameters never leave a half-written run.
  const parameters = selectedFlow.validateParameters(params);
  // Traces (when OTEL_* configure an exporter), flushed below so a short run loses none.
  const telemetry = await startTelemetry({ serviceName: "sluice-cli" });
  try {
    return await runFlow(selectedFlow, parameters, options, config, logger);
  } finally {
    await telemetry.shutdown();
  }
}

async function runFlow(
  selectedFlow: Flow<unknown, unknown>,
  parameters: Record<string, unknown>,
  options: { embedded?: boolean },
  config: CliConfig,
  logger: Logger,
): Promise<number> {
  const mode = await chooseMode(config, { embedded: options.embedded });
  process.stdout.write(`${mode.line}\n`);
  const running = await startEngine(mode, config, logger, consoleStoreNotices(config.home));
  configureEngine(running.engine);
  let exitCode = 0;
  try {
    await selectedFlow(parameters);
  } catch {
    // The failure is already in the run's logs and states (and on the console).
    exitCode = 1;
  } finally {
    await running.close({ onWaiting: () => process.stderr.write("Waiting for the run's events to be recorded…\n") });
    configureEngine(undefined);
  }
  return exitCode;
}
