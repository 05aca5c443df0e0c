/**
 * The tests start `sluice` processes, which run Sluice's compiled JavaScript (dist/): bringing it
 * up to date first means a test run after editing the sources tests those sources, not the last
 * build. `tsc -b` is incremental (about a second when nothing changed).
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export async function buildSluice(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-b"], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = "" } = error as { stdout?: string };
    throw new Error(`Building Sluice (tsc -b) failed; fix these errors first:\n${stdout}`);
  }
}
