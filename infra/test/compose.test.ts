/**
 * There is no Docker engine here, so the compose file is checked by Debian's docker-compose
 * (`config` validates and resolves it) and the Dockerfile against the workspaces it must install.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
  volumes?: (string | { source: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string>;
  ports?: unknown[];
}

function composeConfig(): { services: Record<string, ComposeService> } {
  let output: string;
  try {
    output = execFileSync("docker-compose", ["-f", "docker-compose.yml", "config"], { cwd: root, encoding: "utf8" });
  } catch (error) {
    throw new Error(
      `docker-compose could not validate docker-compose.yml (install it with \`apt-get install docker-compose\`): ${(error as Error).message}`,
    );
  }
  return parse(output) as { services: Record<string, ComposeService> };
}

describe("docker-compose.yml", () => {
  const { services } = composeConfig();

  it("has postgres and redis with healthchecks, and the server waiting for both to be healthy", () => {
    expect(Object.keys(services).sort()).toEqual(["postgres", "redis", "server", "worker"]);
    expect(services.postgres?.healthcheck?.test.join(" ")).toContain("pg_isready");
    expect(services.redis?.healthcheck?.test.join(" ")).toContain("redis-cli ping");
    expect(services.server?.depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
    expect(services.server?.command).toEqual(["server", "start"]);
    expect(JSON.stringify(services.server?.ports)).toContain("4200");
  });

  it("runs scalable workers on the same image, restarting, with the flows mounted", () => {
    const worker = services.worker;
    expect(worker?.image).toBe(services.server?.image);
    expect(worker?.restart).toBe("unless-stopped");
    expect(worker?.command).toEqual([
      "worker",
      "start",
      "--pool",
      "default-agent-pool",
      "--flows",
      "/app/examples/flows",
    ]);
    expect(JSON.stringify(worker?.volumes)).toContain("examples/flows");
    expect(worker?.ports).toBeUndefined(); // a published port would stop `--scale worker=3`
    expect(worker?.environment?.SLUICE_REDIS_URL).toBe("redis://redis:6379");
  });
});

describe("infra/Dockerfile", () => {
  const dockerfile = readFileSync(`${root}/infra/Dockerfile`, "utf8");

  it("installs every workspace (each package.json is copied before npm ci)", () => {
    const workspaces = ["libs", "services"].flatMap((dir) =>
      readdirSync(`${root}/${dir}`).map((name) => `${dir}/${name}/package.json`),
    );
    for (const manifest of [...workspaces, "examples/package.json", "bench/package.json"]) {
      expect(dockerfile, `${manifest} is not copied`).toContain(`COPY ${manifest}`);
    }
  });

  it("builds with the same commands as CI and runs the sluice CLI", () => {
    expect(dockerfile).toContain("RUN npm ci");
    expect(dockerfile).toContain("RUN npm run build");
    expect(dockerfile).toContain('ENTRYPOINT ["npx", "sluice"]');
  });
});
