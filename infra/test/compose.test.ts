/**
 * There is no Docker engine here, so the compose file is checked by Debian's docker-compose
 * (`config` validates and resolves it) and the Dockerfile against the workspaces it must install.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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
  profiles?: string[];
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
    const always = Object.entries(services).filter(([, service]) => !service.profiles);
    expect(always.map(([name]) => name).sort()).toEqual(["postgres", "redis", "server", "worker"]);
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
      "--metrics-port",
      "9464",
    ]);
    expect(JSON.stringify(worker?.volumes)).toContain("examples/flows");
    expect(worker?.ports).toBeUndefined(); // a published port would stop `--scale worker=3`
    expect(worker?.environment?.SLUICE_REDIS_URL).toBe("redis://redis:6379");
  });
});

describe("docker-compose.yml profile observability", () => {
  const { services } = composeConfig();
  const observability = ["grafana", "jaeger", "otel-collector", "prometheus"];
  /** A mounted file or directory of the repository, as `config` resolves it (absolute host path). */
  const mounted = (service: string, target: string): string => {
    const volume = (services[service]?.volumes ?? []).find((v) =>
      typeof v === "string" ? v.split(":")[1] === target : v.target === target,
    );
    const source = typeof volume === "string" ? volume.split(":")[0] : volume?.source;
    expect(source, `${service} mounts ${target}`).toBeDefined();
    expect(existsSync(source as string), `${source} exists`).toBe(true);
    return source as string;
  };
  const readYaml = (path: string) => parse(readFileSync(path, "utf8"));

  it("adds the collector, Jaeger, Prometheus and Grafana only under the profile, on their usual ports", () => {
    for (const name of observability) expect(services[name]?.profiles, name).toEqual(["observability"]);
    const published = (name: string) => JSON.stringify(services[name]?.ports);
    expect(published("jaeger")).toContain("16686");
    expect(published("prometheus")).toContain("9090");
    expect(published("grafana")).toContain("3000");
    expect(published("otel-collector")).toContain("4318");
    // The always-on services never wait for an optional one.
    for (const name of ["server", "worker"]) {
      for (const dependency of Object.keys(services[name]?.depends_on ?? {})) {
        expect(observability, `${name} depends on ${dependency}`).not.toContain(dependency);
      }
    }
  });

  it("points the server's and the workers' OTEL_* variables at the collector", () => {
    for (const name of ["server", "worker"]) {
      const env = services[name]?.environment ?? {};
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://otel-collector:4318");
      expect(env.OTEL_EXPORTER_OTLP_PROTOCOL).toBe("http/protobuf");
      expect(env).toHaveProperty("OTEL_SDK_DISABLED");
    }
  });

  it("mounts a collector config whose trace pipeline goes from OTLP to Jaeger", () => {
    const config = readYaml(mounted("otel-collector", "/etc/otelcol/config.yaml"));
    expect(services["otel-collector"]?.command).toEqual(["--config=/etc/otelcol/config.yaml"]);
    const pipeline = config.service.pipelines.traces;
    expect(pipeline.receivers).toEqual(["otlp"]);
    expect(Object.keys(config.receivers.otlp.protocols).sort()).toEqual(["grpc", "http"]);
    for (const exporter of pipeline.exporters) expect(config.exporters[exporter]).toBeDefined();
    expect(config.exporters[pipeline.exporters[0]].endpoint).toBe("jaeger:4317");
  });

  it("mounts a Prometheus config scraping the server and every worker replica", () => {
    const config = readYaml(mounted("prometheus", "/etc/prometheus/prometheus.yml"));
    const jobs = Object.fromEntries(
      (config.scrape_configs as { job_name: string }[]).map((job) => [job.job_name, job]),
    ) as Record<
      string,
      { static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }
    >;
    expect(jobs["sluice-api"]?.static_configs?.[0]?.targets).toEqual(["server:4200"]);
    expect(jobs["sluice-worker"]?.dns_sd_configs?.[0]).toMatchObject({ names: ["worker"], port: 9464 });
  });

  it("provisions Grafana with the Prometheus datasource and a dashboard whose queries use Sluice's metrics", () => {
    const provisioning = mounted("grafana", "/etc/grafana/provisioning");
    const datasources = readYaml(`${provisioning}/datasources/datasources.yaml`).datasources as {
      uid: string;
      type: string;
      url: string;
    }[];
    expect(datasources.find((d) => d.type === "prometheus")).toMatchObject({
      uid: "prometheus",
      url: "http://prometheus:9090",
    });
    const providers = readYaml(`${provisioning}/dashboards/dashboards.yaml`).providers as {
      options: { path: string };
    }[];
    expect(providers[0]?.options.path).toBe("/var/lib/grafana/dashboards");
    const dashboards = mounted("grafana", "/var/lib/grafana/dashboards");
    const dashboard = JSON.parse(readFileSync(`${dashboards}/sluice.json`, "utf8")) as {
      panels: { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
    };
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase()).join(" | ");
    for (const topic of [
      "runs per minute",
      "duration",
      "queue depth",
      "queue wait",
      "workers online",
      "recorder lag",
    ]) {
      expect(titles).toContain(topic);
    }
    // Every metric a query names is one Sluice exports (its own, or prom-client's process metrics).
    const sources = ["libs", "services"]
      .flatMap((dir) => readdirSync(`${root}/${dir}`).map((name) => `${root}/${dir}/${name}/src`))
      .filter((dir) => existsSync(dir))
      .flatMap((dir) => readdirSync(dir, { recursive: true, encoding: "utf8" }).map((file) => `${dir}/${file}`))
      .filter((file) => file.endsWith(".ts"))
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    const queries = dashboard.panels.flatMap((panel) => panel.targets ?? []);
    expect(queries.length).toBeGreaterThan(0);
    for (const { expr } of queries) {
      for (const metric of expr.match(/sluice_[a-z0-9_]+/g) ?? []) {
        if (/^sluice_(nodejs|process)_/.test(metric)) continue;
        const base = metric.replace(/_(bucket|sum|count)$/, "");
        expect(sources, `${metric} (in ${expr})`).toContain(`"${base}"`);
      }
    }
    for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
      expect(panel.datasource?.uid).toBe("prometheus");
    }
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

  it("runs the workers with a 16 MB V8 young generation and the server with a 64 MB one, flags node accepts in NODE_OPTIONS", () => {
    const imageOptions = /NODE_OPTIONS="([^"]*)"/.exec(dockerfile)?.[1];
    expect(imageOptions).toBe("--max-semi-space-size=8");
    const { services } = composeConfig();
    // The workers keep the image's; the server sets its own.
    expect(services.worker?.environment?.NODE_OPTIONS).toBeUndefined();
    const serverOptions = services.server?.environment?.NODE_OPTIONS;
    expect(serverOptions).toBe("--max-semi-space-size=32");
    // Allocation-heavy work with many survivors grows the new space to its maximum: two semi-spaces
    // (by default 2 × 16 MB on Node 20 and 22; 2 × 64 MB here on Node 24, the image's).
    const newSpaceMb = (env: NodeJS.ProcessEnv) =>
      Number(
        execFileSync(
          process.execPath,
          [
            "-e",
            `let keep = [];
             for (let i = 0; i < 4e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 100000) keep = []; }
             const space = require("node:v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
             console.log(space.space_size / 2 ** 20);`,
          ],
          { env, encoding: "utf8" },
        ),
      );
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    expect(newSpaceMb({ ...env, NODE_OPTIONS: imageOptions })).toBe(16);
    expect(newSpaceMb({ ...env, NODE_OPTIONS: serverOptions })).toBe(64);
    // V8's own is larger than the workers' (Node 24 sizes it from the heap limit, so from the machine's memory).
    expect(newSpaceMb(env)).toBeGreaterThan(16);
  });

  it("builds with the same commands as CI and runs the sluice CLI", () => {
    expect(dockerfile).toContain("RUN npm ci");
    expect(dockerfile).toContain("RUN npm run build");
    expect(dockerfile).toContain('ENTRYPOINT ["npx", "sluice"]');
  });
});
