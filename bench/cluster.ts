/**
 * A throwaway Sluice cluster for benchmarks: its own database and Redis prefix on the local
 * Redis/Postgres, a free API port, `sluice` processes started on it, and a clean-up that stops
 * them and removes everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { SluiceClient } from "@sluice/client";
import { dropDatabase } from "@sluice/db";
import { Redis } from "ioredis";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = fileURLToPath(new URL("../services/cli/bin/sluice.js", import.meta.url));

export async function benchCluster() {
  const redisUrl = process.env.SLUICE_REDIS_URL ?? "redis://127.0.0.1:6379";
  const serverUrl = process.env.SLUICE_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/sluice";
  const suffix = randomUUID().slice(0, 8);
  const databaseUrl = serverUrl.replace(/\/[^/?]*(\?|$)/, `/sluice_bench_${suffix}$1`);
  const prefix = `bench_${suffix}`;
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
  const env = {
    ...process.env,
    SLUICE_DATABASE_URL: databaseUrl,
    SLUICE_REDIS_URL: redisUrl,
    SLUICE_REDIS_PREFIX: prefix,
    SLUICE_PORT: String(port),
    SLUICE_HOST: "127.0.0.1",
    SLUICE_API_URL: `http://127.0.0.1:${port}/api`,
    LOG_LEVEL: "error",
  };
  const children: ChildProcess[] = [];
  const start = (command: string, args: string[]) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
    children.push(child);
    return child;
  };
  const sluice = (args: string[]) => start(process.execPath, [BIN, ...args]);
  return {
    redisUrl,
    databaseUrl,
    prefix,
    env,
    client: new SluiceClient({ apiUrl: env.SLUICE_API_URL }),
    start,
    sluice,
    /** Runs `sluice deploy FILE` and resolves when it succeeded. */
    deploy: (file: string) =>
      new Promise<void>((resolve, reject) => {
        sluice(["deploy", file]).on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`deploy exited ${code}`)),
        );
      }),
    async cleanUp() {
      for (const child of children) child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const redis = new Redis(redisUrl);
      const keys = await redis.keys(`${prefix}:*`);
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
      await dropDatabase(databaseUrl);
    },
  };
}

export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
