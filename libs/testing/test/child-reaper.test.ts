import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { waitFor } from "../src/wait-for.js";

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("stopWithThisProcess", () => {
  it("kills a child left running by a test process that was itself killed", async () => {
    const runnerPath = new URL("./fixtures/runner-with-child.ts", import.meta.url).pathname;
    const runner = spawn(process.execPath, ["--import", "tsx", runnerPath], { stdio: ["ignore", "pipe", "inherit"] });
    const [line] = (await once(runner.stdout, "data")) as [Buffer];
    const childPid = Number(line.toString().trim());
    expect(childPid).toBeGreaterThan(0);
    try {
      // The watchdog looks once a second: a living runner keeps its child.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(isAlive(childPid)).toBe(true);
      runner.kill("SIGKILL"); // no exit handler runs: as when a runner dies of SIGPIPE or is killed
      await waitFor("the orphaned child to be killed", async () => !isAlive(childPid), 10_000);
    } finally {
      runner.kill("SIGKILL");
      if (isAlive(childPid)) process.kill(childPid, "SIGKILL");
    }
  });
});
