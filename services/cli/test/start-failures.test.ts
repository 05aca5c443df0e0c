/**
 * `sluice worker start` and `sluice server start` that cannot start: each exits with an error
 * naming the problem, rather than hang with the connections it had opened.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { createTestContext, stopWithThisProcess, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, expect, it } from "vitest";
import { REPO_ROOT } from "../../../examples/test/run-cli.js";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(() => ctx.close());

/** Runs the command; kills it (code null) if it is still running after `timeoutMs`. */
function runWithin(args: string[], env: Record<string, string>, timeoutMs: number) {
  return new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["services/cli/bin/sluice.js", ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    stopWithThisProcess(child);
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

it("a worker whose Redis user may not subscribe exits 1 naming the refusal, instead of hanging", async () => {
  // May run every command but subscribe to no channel (the cancellation channel among them).
  const user = `sluice-test-${ctx.prefix.replace(/[^a-z0-9]/gi, "")}`;
  await ctx.redis.call("ACL", "SETUSER", user, "on", "nopass", "~*", "resetchannels", "+@all");
  try {
    const redisUrl = new URL(ctx.redisUrl);
    redisUrl.username = user;
    const result = await runWithin(
      ["worker", "start", "--pool", "acl-pool", "--flows", "examples/flows", "--name", "w1"],
      {
        SLUICE_DATABASE_URL: ctx.databaseUrl,
        SLUICE_REDIS_URL: redisUrl.toString(),
        SLUICE_REDIS_PREFIX: ctx.prefix,
        SLUICE_API_URL: "http://127.0.0.1:9/api", // no server: the worker warns and goes on
      },
      20_000,
    );
    expect(result.stderr).toMatch(/NOPERM/);
    expect(result.code).toBe(1);
  } finally {
    await ctx.redis.call("ACL", "DELUSER", user);
  }
});

it("a server whose port is taken exits 1 naming the port, instead of hanging with its recorder and scheduler", async () => {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  try {
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const result = await runWithin(
      ["server", "start"],
      {
        SLUICE_DATABASE_URL: ctx.databaseUrl,
        SLUICE_REDIS_URL: ctx.redisUrl,
        SLUICE_REDIS_PREFIX: ctx.prefix,
        SLUICE_HOST: "127.0.0.1",
        SLUICE_PORT: String(port),
      },
      20_000,
    );
    expect(result.stderr).toMatch(new RegExp(`EADDRINUSE.*${port}`));
    expect(result.code).toBe(1);
  } finally {
    taken.close();
  }
});
