/** Worker heartbeats to the API (Prefect's work-pool workers view). The API being away never stops the worker. */
import type { SluiceClient } from "@sluice/client";
import type { Logger } from "@sluice/telemetry";

export function startHeartbeats(
  client: SluiceClient,
  options: { workPoolName: string; name: string; intervalSeconds: number; logger: Logger },
): { stop(): void } {
  let warned = false;
  const beat = async () => {
    try {
      await client.workerHeartbeat(options.workPoolName, {
        name: options.name,
        heartbeat_interval_seconds: options.intervalSeconds,
      });
      if (warned) options.logger.info("API reachable again: heartbeats resumed");
      warned = false;
    } catch (error) {
      if (!warned) options.logger.warn({ err: error }, "heartbeat failed; runs go on, retrying");
      warned = true;
    }
  };
  void beat();
  const timer = setInterval(beat, options.intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
