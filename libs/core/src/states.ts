/**
 * Run states, defined once: the Postgres enum, the TS types and the REST shapes all derive from these lists.
 * This module imports nothing, so the browser UI imports it alone (`@sluice/core/states`), without the
 * index's Node-only modules (node:crypto).
 */

export const STATE_TYPES = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CANCELLING",
  "CRASHED",
  "PAUSED",
] as const;
export type StateType = (typeof STATE_TYPES)[number];

/** Each state name belongs to exactly one state type (Prefect's naming). */
export const STATE_NAME_TYPES = {
  Scheduled: "SCHEDULED",
  Late: "SCHEDULED",
  AwaitingRetry: "SCHEDULED",
  AwaitingConcurrencySlot: "SCHEDULED",
  Pending: "PENDING",
  Running: "RUNNING",
  Retrying: "RUNNING",
  Completed: "COMPLETED",
  Cached: "COMPLETED",
  Failed: "FAILED",
  TimedOut: "FAILED",
  Cancelled: "CANCELLED",
  Cancelling: "CANCELLING",
  Crashed: "CRASHED",
  Paused: "PAUSED",
} as const satisfies Record<string, StateType>;
export type StateName = keyof typeof STATE_NAME_TYPES;
export const STATE_NAMES = Object.keys(STATE_NAME_TYPES) as StateName[];

export const TERMINAL_STATE_TYPES: readonly StateType[] = ["COMPLETED", "FAILED", "CANCELLED", "CRASHED"];

export function stateTypeOf(name: StateName): StateType {
  return STATE_NAME_TYPES[name];
}

/** The usual name of a state of this type (a state set by type alone gets it, as in Prefect). */
export function defaultStateName(type: StateType): StateName {
  switch (type) {
    case "SCHEDULED":
      return "Scheduled";
    case "PENDING":
      return "Pending";
    case "RUNNING":
      return "Running";
    case "COMPLETED":
      return "Completed";
    case "FAILED":
      return "Failed";
    case "CANCELLED":
      return "Cancelled";
    case "CANCELLING":
      return "Cancelling";
    case "CRASHED":
      return "Crashed";
    case "PAUSED":
      return "Paused";
    default:
      return assertNever(type);
  }
}

export function isTerminal(type: StateType): boolean {
  switch (type) {
    case "COMPLETED":
    case "FAILED":
    case "CANCELLED":
    case "CRASHED":
      return true;
    case "SCHEDULED":
    case "PENDING":
    case "RUNNING":
    case "CANCELLING":
    case "PAUSED":
      return false;
    default:
      return assertNever(type);
  }
}

export function isStateName(value: string): value is StateName {
  return Object.hasOwn(STATE_NAME_TYPES, value);
}

export function assertNever(value: never): never {
  throw new Error(`Unexpected value: ${String(value)}`);
}
