/**
 * Deployments from TypeScript: `myFlow.deploy({ name, workPoolName, schedule: cron("0 6 * * *") })`.
 * The SDK describes the deployment; whoever hosts the deploy script (`sluice deploy FILE`) sends it
 * to the API, with the flow's entrypoint resolved relative to the flows directory.
 */
import {
  COLLISION_STRATEGIES,
  type CollisionStrategy,
  ConfigurationError,
  type Duration,
  InvalidInputError,
  parseDuration,
} from "@sluice/core";
import { z } from "zod";
import type { Flow } from "./flow.js";

export type ScheduleSpec =
  | { kind: "cron"; cron: string; timezone: string }
  | { kind: "interval"; intervalSeconds: number; anchorDate: string | null; timezone: string };

/** A cron schedule, evaluated in `timezone` (default UTC), DST included. */
export function cron(expression: string, options: { timezone?: string } = {}): ScheduleSpec {
  return { kind: "cron", cron: expression, timezone: options.timezone ?? "UTC" };
}

/** Every `every` (seconds as a number, or "15m", "1h"), counted from `anchorDate` if given. */
export function interval(
  every: number | Duration,
  options: { anchorDate?: Date | string; timezone?: string } = {},
): ScheduleSpec {
  const seconds = typeof every === "number" ? every : parseDuration(every) / 1000;
  const anchor = options.anchorDate === undefined ? null : new Date(options.anchorDate).toISOString();
  return { kind: "interval", intervalSeconds: seconds, anchorDate: anchor, timezone: options.timezone ?? "UTC" };
}

export interface DeployOptions {
  name: string;
  workPoolName?: string;
  workQueueName?: string;
  schedule?: ScheduleSpec;
  schedules?: ScheduleSpec[];
  /** Default parameters of the deployment's runs (merged under those given per run). */
  parameters?: Record<string, unknown>;
  tags?: string[];
  description?: string;
  paused?: boolean;
  /** At most this many runs of the deployment at once, across every worker. */
  concurrencyLimit?: number;
  /**
   * What a run finding all `concurrencyLimit` slots taken does: "ENQUEUE" (the default) waits
   * AwaitingConcurrencySlot for a slot, "CANCEL_NEW" ends Cancelled.
   */
  collisionStrategy?: CollisionStrategy;
}

export interface DeploymentSpec {
  flowName: string;
  name: string;
  workPoolName: string;
  workQueueName: string | null;
  schedules: ScheduleSpec[];
  parameters: Record<string, unknown>;
  /** JSON Schema of the flow's parameters (from its zod schema), for validation and the UI's form. */
  parameterSchema: Record<string, unknown> | null;
  tags: string[];
  description: string | null;
  paused: boolean;
  concurrencyLimit: number | null;
  /** Null when not given (ENQUEUE applies). */
  collisionStrategy: CollisionStrategy | null;
}

export interface DeployTarget {
  deploy(flow: Flow<unknown, unknown>, spec: DeploymentSpec): Promise<{ id: string }>;
}

let target: DeployTarget | undefined;

export function configureDeployTarget(next: DeployTarget | undefined): void {
  target = next;
}

export const DEFAULT_WORK_POOL = "default-agent-pool";

export async function deployFlow(flow: Flow<unknown, unknown>, options: DeployOptions): Promise<{ id: string }> {
  if (!target) {
    throw new ConfigurationError("Deployments are registered by `npx sluice deploy FILE` (it knows where the API is)");
  }
  const { concurrencyLimit, collisionStrategy } = options;
  if (concurrencyLimit !== undefined && (!Number.isInteger(concurrencyLimit) || concurrencyLimit < 1)) {
    throw new InvalidInputError(`concurrencyLimit must be a positive integer, got ${concurrencyLimit}`);
  }
  if (collisionStrategy !== undefined && !COLLISION_STRATEGIES.includes(collisionStrategy)) {
    throw new InvalidInputError(
      `collisionStrategy must be one of ${COLLISION_STRATEGIES.join(", ")}, got '${String(collisionStrategy)}'`,
    );
  }
  const schema = flow.options.parameters;
  const spec: DeploymentSpec = {
    flowName: flow.flowName,
    name: options.name,
    workPoolName: options.workPoolName ?? DEFAULT_WORK_POOL,
    workQueueName: options.workQueueName ?? null,
    schedules: [...(options.schedule ? [options.schedule] : []), ...(options.schedules ?? [])],
    parameters: options.parameters ?? {},
    parameterSchema: schema
      ? (z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>)
      : null,
    tags: options.tags ?? [],
    description: options.description ?? flow.options.description ?? null,
    paused: options.paused ?? false,
    concurrencyLimit: concurrencyLimit ?? null,
    collisionStrategy: collisionStrategy ?? null,
  };
  return target.deploy(flow, spec);
}
