/** Runs the `sluice` command as a user would, against a test's own database and Redis prefix. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopWithThisProcess, type TestContext } from "@sluice/testing";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SLUICE_BIN = fileURLToPath(new URL("../../services/cli/bin/sluice.js", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runSluice(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SLUICE_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    stopWithThisProcess(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export function clusterEnv(ctx: TestContext): Record<string, string> {
  return { SLUICE_DATABASE_URL: ctx.databaseUrl, SLUICE_REDIS_URL: ctx.redisUrl, SLUICE_REDIS_PREFIX: ctx.prefix };
}
