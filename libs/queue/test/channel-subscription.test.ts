import { createTestContext, type TestContext, waitFor } from "@sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FlowRunCancellation, redisKeys, WorkQueueLimits } from "../src/index.js";

let ctx: TestContext;
beforeEach(async () => {
  ctx = await createTestContext();
});
afterEach(() => ctx.close());

/** How many connections Redis holds for `user`. */
async function connectionsOf(user: string): Promise<number> {
  const list = (await ctx.redis.client("LIST")) as string;
  return list.split("\n").filter((line) => line.includes(` user=${user} `)).length;
}

describe("channel subscriptions", () => {
  it("refused by Redis, fail at start and leave no connection behind to keep the process alive", async () => {
    // A user that may run every command but subscribe to no channel, as a tight ACL would have it.
    const user = `sluice-test-${ctx.prefix.replace(/[^a-z0-9]/gi, "")}`;
    await ctx.redis.call("ACL", "SETUSER", user, "on", "nopass", "~*", "resetchannels", "+@all");
    const limited = ctx.redis.duplicate({ username: user, password: "" });
    try {
      const keys = redisKeys(ctx.prefix);
      await expect(new FlowRunCancellation(limited, keys).subscribe(() => {})).rejects.toThrow(/NOPERM/);
      await expect(new WorkQueueLimits(limited, keys, "default").start()).rejects.toThrow(/NOPERM/);
      // Only `limited` itself is left.
      expect(await waitFor("the refused subscribers to close", async () => (await connectionsOf(user)) === 1)).toBe(
        true,
      );
    } finally {
      limited.disconnect();
      await ctx.redis.call("ACL", "DELUSER", user);
    }
  });
});
