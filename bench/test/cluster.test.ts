import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { NODE_OPTIONS, ROOT } from "../cluster.js";

describe("the bench's Sluice cluster", () => {
  it("runs the server and the workers with the NODE_OPTIONS docker compose gives them", () => {
    // docker-compose resolves the file as it would run it: the image's environment is not in it.
    const resolved = parse(
      execFileSync("docker-compose", ["-f", "docker-compose.yml", "config"], { cwd: ROOT, encoding: "utf8" }),
    ) as { services: Record<string, { environment?: Record<string, string> }> };
    expect(NODE_OPTIONS.server).toBe(resolved.services.server?.environment?.NODE_OPTIONS);
    expect(resolved.services.worker?.environment?.NODE_OPTIONS).toBeUndefined();
    expect(NODE_OPTIONS.worker).toMatch(/^--max-semi-space-size=\d+$/);
    expect(NODE_OPTIONS.worker).not.toBe(NODE_OPTIONS.server);
  });
});
