/**
 * Processes a test starts (a cluster's `sluice server start` and workers) are stopped by the test's
 * teardown. A test runner that dies before it (killed, or of SIGPIPE with its output piped into
 * `head`) would leave them running, writing to their Redis prefix for as long as nobody kills them:
 * Linux does not stop a process's children when it dies. So a watchdog, detached from this process,
 * polls it once a second and SIGKILLs every child still registered once it is gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One empty file per live child, named by its pid; the watchdog ends when the directory goes. */
const WATCHDOG = `
parent=$1 dir=$2
while kill -0 "$parent" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done
[ -d "$dir" ] || exit 0
for file in "$dir"/*; do
  [ -e "$file" ] && kill -KILL "\${file##*/}" 2>/dev/null
done
rm -rf "$dir"
`;

let pidsDir: string | undefined;

function watchedDir(): string {
  if (pidsDir) return pidsDir;
  const dir = mkdtempSync(join(tmpdir(), "sluice-test-children-"));
  const watchdog = spawn("sh", ["-c", WATCHDOG, "sluice-test-reaper", String(process.pid), dir], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  // A runner that exits normally has stopped its children: the watchdog sees the directory go.
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  pidsDir = dir;
  return dir;
}

/** Makes sure `child` does not outlive this process, however this process ends. */
export function stopWithThisProcess(child: ChildProcess): void {
  const { pid } = child;
  if (pid === undefined) return; // it never started
  const file = join(watchedDir(), String(pid));
  writeFileSync(file, "");
  // Once it has exited its pid may be reused: it is not the watchdog's to kill any more.
  child.once("exit", () => {
    try {
      unlinkSync(file);
    } catch {}
  });
}
