/**
 * The `sluice` command (services/cli/bin/sluice.js) as a child of a test: run as a user would,
 * from the repository's root, with its output kept, and stopped with the test runner however that
 * ends (child-reaper.ts).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopWithThisProcess } from "./child-reaper.js";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SLUICE_BIN = fileURLToPath(new URL("../../../services/cli/bin/sluice.js", import.meta.url));

export interface CliResult {
  /** Null when a signal ended it. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SluiceCommand {
  child: ChildProcess;
  /** What it printed so far: each stream, and both as they came. */
  output(): { stdout: string; stderr: string; both: string };
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
  /** Its exit code and all it printed, once its output is closed too. */
  result: Promise<CliResult>;
}

export interface SluiceCommandOptions {
  /** Its whole environment (start from process.env). */
  env: NodeJS.ProcessEnv;
  /** A command that runs `node sluice.js …` for it, given as its arguments; it must exec node, so `child.pid` is the CLI's. */
  wrapper?: string[];
}

export function spawnSluice(args: string[], { env, wrapper = [] }: SluiceCommandOptions): SluiceCommand {
  const [command, ...rest] = [...wrapper, process.execPath, SLUICE_BIN, ...args] as [string, ...string[]];
  const child = spawn(command, rest, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  stopWithThisProcess(child);
  const printed = { stdout: "", stderr: "", both: "" };
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]?.on("data", (chunk: Buffer) => {
      const text = chunk.toString();
      printed[stream] += text;
      printed.both += text;
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: printed.stdout, stderr: printed.stderr }));
  });
  result.catch(() => {}); // a caller that only watches `exited` or the output does not await it
  return { child, output: () => ({ ...printed }), exited, result };
}
