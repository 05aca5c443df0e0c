/**
 * Reporting: the table printed at the end of a run, and the files it writes: `<timestamp>.json`
 * and `latest.json` (the same report), `latest.md` (the table, the set-up, notes) and
 * `latest.svg` (a bar chart, linked from the markdown).
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeReceived } from "./otlp-receiver.js";
import {
  type BenchReport,
  bestPeer,
  goalOf,
  HIGHER_IS_BETTER,
  isTracingOn,
  type Metric,
  type Result,
  type Sizes,
  SYSTEMS,
  type System,
  tracingOffVariant,
  WORKLOADS,
} from "./results.js";

const METRIC_LABEL: Record<Metric, string> = {
  tasks_per_s: "tasks/s",
  p50_ms: "p50",
  p95_ms: "p95",
  p99_ms: "p99",
  seconds: "time",
  rss_mb: "peak RSS",
  overhead_pct: "overhead",
};

const WORKLOAD_LABEL: Record<string, string> = {
  W1: "W1 chain",
  W2: "W2 throughput",
  W3: "W3 latency",
  W4: "W4 ETL",
  memory: "memory",
};

export function formatValue(metric: Metric, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  switch (metric) {
    case "tasks_per_s":
      return `${Math.round(value).toLocaleString("en-US")}/s`;
    case "p50_ms":
    case "p95_ms":
    case "p99_ms":
      return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
    case "seconds":
      return `${value.toFixed(value < 10 ? 2 : 1)} s`;
    case "rss_mb":
      return `${value.toFixed(0)} MB`;
    case "overhead_pct":
      return `${value >= 0 ? "+" : ""}${value.toFixed(1)}%`;
  }
}

/** What a row measures, its "(tracing on)" variant included: the panel of the chart it is in. */
const measurement = (row: Result) => `${row.workload}|${tracingOffVariant(row.variant)}|${row.metric}`;

/**
 * Rows in reading order: by workload, then as measured (variant, metric), Sluice before its peers
 * and Sluice with tracing on last, beside the same measurement with tracing off.
 */
export function sortedResults(results: readonly Result[]): Result[] {
  const firstSeen = new Map<string, number>();
  results.forEach((row, i) => {
    const key = measurement(row);
    if (!firstSeen.has(key)) firstSeen.set(key, i);
  });
  const group = (row: Result) => firstSeen.get(measurement(row)) ?? 0;
  return [...results].sort(
    (a, b) =>
      WORKLOADS.indexOf(a.workload) - WORKLOADS.indexOf(b.workload) ||
      group(a) - group(b) ||
      Number(isTracingOn(a.variant)) - Number(isTracingOn(b.variant)) ||
      SYSTEMS.indexOf(a.system) - SYSTEMS.indexOf(b.system),
  );
}

interface TableRow {
  workload: string;
  variant: string;
  metric: string;
  system: string;
  value: string;
  ratio: string;
  goal: string;
}

/** Each row's cells: the value, its ratio to the best peer measuring the same thing, the goal. */
export function tableRows(results: readonly Result[]): TableRow[] {
  return sortedResults(results).map((row) => {
    const best = bestPeer(results, row);
    let ratio = "";
    if (best && best.value !== 0) {
      ratio = `×${(row.value / best.value).toFixed(2)}`;
      if (best === row) ratio += " best";
      else if (row.system === "sluice") ratio += ` ${best.system}`;
    }
    const goal = goalOf(results, row);
    return {
      workload: WORKLOAD_LABEL[row.workload] ?? row.workload,
      variant: row.variant,
      metric: METRIC_LABEL[row.metric],
      system: row.system,
      value: formatValue(row.metric, row.value),
      ratio,
      goal: goal ? `${goal.met === null ? "? (peers not run)" : goal.met ? "✓" : "✗"} ${goal.text}` : "",
    };
  });
}

const HEADERS: TableRow = {
  workload: "Workload",
  variant: "Variant",
  metric: "Metric",
  system: "System",
  value: "Value",
  ratio: "vs best peer",
  goal: "Goal",
};
const COLUMNS = Object.keys(HEADERS) as (keyof TableRow)[];
const RIGHT_ALIGNED = new Set<keyof TableRow>(["value"]);

/** The table for a terminal. */
export function textTable(results: readonly Result[]): string {
  const rows = tableRows(results);
  const widths = COLUMNS.map((column) => Math.max(...[HEADERS, ...rows].map((row) => row[column].length)));
  const line = (row: TableRow) =>
    COLUMNS.map((column, i) =>
      RIGHT_ALIGNED.has(column) ? row[column].padStart(widths[i] ?? 0) : row[column].padEnd(widths[i] ?? 0),
    )
      .join("  ")
      .trimEnd();
  const out = [line(HEADERS), widths.map((width) => "─".repeat(width)).join("  ")];
  let previous = "";
  for (const row of rows) {
    // Repeated workload and variant cells are left blank, to read as groups.
    const shown = { ...row };
    if (`${row.workload}|${row.variant}|${row.metric}` === previous) {
      shown.workload = "";
      shown.variant = "";
      shown.metric = "";
    }
    previous = `${row.workload}|${row.variant}|${row.metric}`;
    out.push(line(shown));
  }
  return out.join("\n");
}

export function markdownTable(results: readonly Result[]): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const rows = tableRows(results);
  return [
    `| ${COLUMNS.map((column) => HEADERS[column]).join(" | ")} |`,
    `| ${COLUMNS.map((column) => (RIGHT_ALIGNED.has(column) ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((row) => `| ${COLUMNS.map((column) => cell(row[column])).join(" | ")} |`),
  ].join("\n");
}

const COLOURS: Record<System, string> = {
  sluice: "#2563eb",
  bullmq: "#dc2626",
  "graphile-worker": "#16a34a",
  "pg-boss": "#9333ea",
};
/** Sluice with tracing on: its bar is beside Sluice's own, lighter. */
const TRACING_ON_COLOUR = "#93c5fd";

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

/**
 * A horizontal bar chart: one panel per measured thing (workload, variant, metric), a bar per
 * system, and one for Sluice with tracing on where it was measured too.
 */
export function svgChart(report: BenchReport): string {
  const width = 860;
  const labelWidth = 150;
  const valueWidth = 90;
  const barMax = width - labelWidth - valueWidth - 30;
  const barHeight = 16;
  const gap = 4;
  const parts: string[] = [];
  let y = 52;
  const groups = new Map<string, Result[]>();
  for (const row of sortedResults(report.results)) {
    const key = measurement(row);
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const rows of groups.values()) {
    const first = rows[0] as Result;
    const better = HIGHER_IS_BETTER.has(first.metric) ? "higher is better" : "lower is better";
    parts.push(
      `<text x="10" y="${y + 12}" class="title">${escapeXml(
        `${WORKLOAD_LABEL[first.workload] ?? first.workload} · ${first.variant} · ${METRIC_LABEL[first.metric]} (${better})`,
      )}</text>`,
    );
    y += 20;
    const max = Math.max(...rows.map((row) => Math.abs(row.value)).filter(Number.isFinite), 1e-9);
    for (const row of rows) {
      const length = Number.isFinite(row.value) ? Math.max(1, (Math.abs(row.value) / max) * barMax) : 0;
      const traced = isTracingOn(row.variant);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + barHeight - 4}" class="label" text-anchor="end">${escapeXml(
          traced ? `${row.system}, tracing on` : row.system,
        )}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" rx="2" fill="${
          traced ? TRACING_ON_COLOUR : COLOURS[row.system]
        }"/>`,
        `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + barHeight - 4}" class="value">${escapeXml(
          formatValue(row.metric, row.value),
        )}</text>`,
      );
      y += barHeight + gap;
    }
    y += 12;
  }
  const { machine, run } = report;
  const subtitle = `${run.mode} run, ${run.started_at.slice(0, 16).replace("T", " ")} UTC · ${machine.cores} cores · node ${machine.node} · redis ${machine.redis} · postgres ${machine.postgres.split(" ")[0]}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    "<style>.head{font-size:16px;font-weight:600;fill:#111}.title{font-size:13px;font-weight:600;fill:#111}.label{font-size:12px;fill:#333}.value{font-size:12px;fill:#111}.sub{font-size:12px;fill:#555}</style>",
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" class="head">Sluice and its peers, side by side</text>`,
    `<text x="10" y="40" class="sub">${escapeXml(subtitle)}</text>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}

const PUBLISHED_W1 =
  "Published figures for W1's workload (Windmill's benchmark, 2 vCPU): Hatchet 1.22 s, Windmill 2.09 s, " +
  "Temporal 2.97 s, Prefect 4.87 s.";

export function markdownReport(report: BenchReport): string {
  const { machine, run } = report;
  const sizes = run.sizes;
  // One line per measurement (the percentiles of one share it), without the set-up listed above.
  const notes = new Map<string, string>();
  for (const row of sortedResults(report.results)) {
    let text = row.notes ?? "";
    for (const setUp of Object.values(run.settings)) text = text.replace(`; ${setUp}`, "");
    const percentile = /^p\d\d_ms$/.test(row.metric);
    const key = `${row.workload} · ${row.system} · ${row.variant}${percentile ? "" : ` · ${METRIC_LABEL[row.metric]}`}`;
    if (text && !notes.has(key)) notes.set(key, `- **${key}**: ${text}`);
  }
  const settings = Object.entries(run.settings).map(([system, text]) => `- **${system}**: ${text}`);
  if (run.tracing) {
    settings.push(
      `- **sluice (tracing on)**, W2 and W3 again: ${run.tracing.settings}; it received ` +
        `${describeReceived(run.tracing)} of spans in all`,
    );
  }
  return [
    "# Sluice benchmarks",
    "",
    `${run.mode === "quick" ? "A **quick** run (small sizes, a smoke check: not for comparing)" : "A full run"} of ` +
      `\`npm run bench${run.mode === "quick" ? " -- --quick" : ""}\`, started ${run.started_at}, ${Math.round(run.seconds)} s.`,
    "",
    `Machine: ${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis}, Postgres ${machine.postgres}. ` +
      "Every system runs on this machine, on the same Redis and Postgres, one after the other" +
      (sizes.throughputRounds > 1 ? `, and W2 in ${sizes.throughputRounds} rounds where the systems take turns.` : "."),
    "",
    `Sizes: W1 ${sizes.chainLength} tasks × ${sizes.chainTaskMs} ms (median of ${sizes.chainRepeats}); ` +
      `W2 ${sizes.throughputTasks.toLocaleString("en-US")} no-op tasks (${describeW2Repeats(sizes)}); W3 ${sizes.latencyRate} runs/s for ${sizes.latencySeconds} s; ` +
      `W4 ${sizes.etlRuns} runs × ${sizes.etlRows.toLocaleString("en-US")} users.`,
    "",
    markdownTable(report.results),
    "",
    "“vs best peer” divides the value by the best peer's value for the same workload, variant and metric " +
      "(for tasks/s higher is better, for everything else lower). The goals are those of DESIGN.md " +
      "(the tracing overhead's is issue 8's). “(tracing on)” rows are Sluice again with every run traced " +
      "and exported (see Set-up); their overhead rows compare them with the same rows with tracing off.",
    "",
    "![Bar chart of the results](latest.svg)",
    "",
    "## Set-up",
    "",
    ...settings,
    "",
    PUBLISHED_W1,
    "",
    "## Notes",
    "",
    ...notes.values(),
    "",
    "## Reproduce",
    "",
    "With Redis on 127.0.0.1:6379 and Postgres on 127.0.0.1:5432 (user postgres, no password), or " +
      "`SLUICE_REDIS_URL` / `SLUICE_DATABASE_URL` pointing elsewhere (with neither, throwaway servers are " +
      "started from the installed `redis-server` and `postgresql` binaries):",
    "",
    "```sh",
    "npm ci",
    "npm run bench              # every workload, Sluice and its peers, a few minutes",
    "npm run bench -- --quick   # small sizes, under a minute (results in bench/results/quick/)",
    "```",
    "",
  ].join("\n");
}

/** Writes a file atomically (a reader never sees half of it). */
function writeFile(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/**
 * Writes `<timestamp>.json` into `dir`, and unless `latest` is false `latest.json`, `latest.md` and
 * `latest.svg`; returns their paths.
 */
export function writeReport(report: BenchReport, dir: string, { latest = true } = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.run.started_at.replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const files: [string, string][] = [
    [join(dir, `${stamp}.json`), json],
    [join(dir, "latest.json"), json],
    [join(dir, "latest.svg"), svgChart(report)],
    [join(dir, "latest.md"), markdownReport(report)],
  ];
  const written = latest ? files : files.slice(0, 1);
  for (const [path, content] of written) writeFile(path, content);
  return written.map(([path]) => path);
}

/** "median of 3" for timed repetitions; "median of 3 rounds, the systems taking turns" for rounds. */
function describeW2Repeats({ throughputRepeats: repeats, throughputRounds: rounds }: Sizes): string {
  if (rounds <= 1) return `median of ${repeats}`;
  const timings = repeats > 1 ? ` × ${repeats} each` : "";
  return `median of ${rounds} rounds${timings}, the systems taking turns`;
}
