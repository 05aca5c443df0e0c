/**
 * `sluice worker start` and `sluice server start` that cannot start: each exits with an error
 * naming the problem, rather than hang with the connections it had opened.
 */
import { createServer, type Server } from "node:net";
import { createTestContext, spawnSluice, type TestContext } from "@sluice/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(() => ctx.close());

/** Runs the command; kills it (code null) if it is still running after `timeoutMs`. */
async function runWithin(args: string[], env: Record<string, string>, timeoutMs: number) {
  const command = spawnSluice(args, { env: { ...process.env, LOG_LEVEL: "warn", ...env } });
  const timer = setTimeout(() => command.child.kill("SIGKILL"), timeoutMs);
  try {
    return await command.result;
  } finally {
    clearTimeout(timer);
  }
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
