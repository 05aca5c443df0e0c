/** Builds the UI for the browser tests when services/ui/dist is missing or older than its sources. */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const UI_ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const SOURCES = ["src", "index.html", "vite.config.ts", "package.json", "../../libs/client/src", "../../libs/core/src"];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export function ensureUiBuilt(): void {
  const built = join(UI_ROOT, "dist", "index.html");
  const sources = Math.max(...SOURCES.map((source) => newestMtime(join(UI_ROOT, source))));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  execFileSync("npm", ["run", "build", "-w", "@sluice/ui"], { cwd: REPO_ROOT, stdio: "inherit" });
}
