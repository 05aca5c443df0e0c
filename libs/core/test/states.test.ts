import { describe, expect, it } from "vitest";
import {
  isStateName,
  isTerminal,
  STATE_NAME_TYPES,
  STATE_NAMES,
  STATE_TYPES,
  type StateType,
  stateTypeOf,
  TERMINAL_STATE_TYPES,
} from "../src/index.js";

describe("states", () => {
  it("has the Prefect state types", () => {
    expect([...STATE_TYPES].sort()).toEqual(
      ["CANCELLED", "CANCELLING", "COMPLETED", "CRASHED", "FAILED", "PAUSED", "PENDING", "RUNNING", "SCHEDULED"].sort(),
    );
  });

  it("knows which types are terminal", () => {
    const terminal = STATE_TYPES.filter((type) => isTerminal(type));
    expect(terminal.sort()).toEqual(["CANCELLED", "COMPLETED", "CRASHED", "FAILED"]);
    expect([...TERMINAL_STATE_TYPES].sort()).toEqual(terminal);
  });

  it("throws on a value that is not a state type", () => {
    expect(() => isTerminal("DONE" as StateType)).toThrow(/Unexpected value/);
  });

  it.each([
    ["Scheduled", "SCHEDULED"],
    ["Late", "SCHEDULED"],
    ["AwaitingRetry", "SCHEDULED"],
    ["AwaitingConcurrencySlot", "SCHEDULED"],
    ["Pending", "PENDING"],
    ["Running", "RUNNING"],
    ["Retrying", "RUNNING"],
    ["Completed", "COMPLETED"],
    ["Cached", "COMPLETED"],
    ["Failed", "FAILED"],
    ["TimedOut", "FAILED"],
    ["Cancelled", "CANCELLED"],
    ["Cancelling", "CANCELLING"],
    ["Crashed", "CRASHED"],
    ["Paused", "PAUSED"],
  ] as const)("maps the state name %s to %s", (name, type) => {
    expect(stateTypeOf(name)).toBe(type);
  });

  it("maps every state name to a known type", () => {
    expect(STATE_NAMES).toHaveLength(Object.keys(STATE_NAME_TYPES).length);
    for (const name of STATE_NAMES) expect(STATE_TYPES).toContain(stateTypeOf(name));
  });

  it("recognises state names", () => {
    expect(isStateName("Running")).toBe(true);
    expect(isStateName("running")).toBe(false);
    expect(isStateName("toString")).toBe(false);
  });
});
