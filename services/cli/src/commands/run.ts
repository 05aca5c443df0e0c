/** `sluice run FILE[:export] [--param k=v]`: runs a flow in this process, recorded like any other run. */
import { configureEngine } from "@sluice/sdk";
import type { Logger } from "@sluice/telemetry";
import type { CliConfig } from "../config.js";
import { chooseEngine } from "../modes/choose.js";
import { loadFlow, parseParams } from "@sluice/sdk";

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
  const running = await chooseEngine(config, logger, { embedded: options.embedded });
  process.stdout.write(`Sluice ${running.description}\n`);
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
