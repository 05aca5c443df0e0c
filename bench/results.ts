/**
 * What a benchmark run produces: the result rows (the JSON shape of issue 7), the rows a complete
 * run must have, the goals of DESIGN.md, and the small statistics the workloads share.
 */

export const SYSTEMS = ["sluice", "bullmq", "graphile-worker", "pg-boss"] as const;
export type System = (typeof SYSTEMS)[number];
export const PEERS = ["bullmq", "graphile-worker", "pg-boss"] as const;
export type Peer = (typeof PEERS)[number];

export const WORKLOADS = ["W1", "W2", "W3", "W4", "memory"] as const;
export type Workload = (typeof WORKLOADS)[number];

export type Metric = "tasks_per_s" | "p50_ms" | "p95_ms" | "p99_ms" | "seconds" | "rss_mb" | "overhead_pct";
/** Metrics where more is better; for every other one less is better. */
export const HIGHER_IS_BETTER: ReadonlySet<Metric> = new Set(["tasks_per_s"]);

/** One measured value. `variant` says what was measured (rows compare across systems by it); `notes` how. */
export interface Result {
  workload: Workload;
  system: System;
  variant: string;
  metric: Metric;
  value: number;
  notes?: string;
}

export interface Machine {
  cores: number;
  node: string;
  redis: string;
  postgres: string;
}

export type Mode = "quick" | "full";

/** The sizes of every workload; `--quick` shrinks them. */
export interface Sizes {
  /** W1: tasks in the chain, each sleeping `chainTaskMs`, and timed repetitions (the median is kept). */
  chainLength: number;
  chainTaskMs: number;
  chainRepeats: number;
  /**
   * W2: no-op task runs (jobs for the peers), timed repetitions on the same processes, and rounds:
   * each round starts every system afresh and runs its W2, the systems taking turns, so a machine
   * whose speed drifts over minutes slows them alike. Kept: the median of the rounds' medians.
   */
  throughputTasks: number;
  throughputRepeats: number;
  throughputRounds: number;
  /** W3: flow runs (jobs) per second, for this many seconds. */
  latencyRate: number;
  latencySeconds: number;
  /** W4: ETL runs over a fixture of this many users, at most `etlConcurrency` at once. */
  etlRuns: number;
  etlRows: number;
  etlConcurrency: number;
}

export const SIZES: Record<Mode, Sizes> = {
  full: {
    chainLength: 40,
    chainTaskMs: 10,
    chainRepeats: 5,
    throughputTasks: 20_000,
    throughputRepeats: 1,
    throughputRounds: 3,
    latencyRate: 100,
    latencySeconds: 30,
    etlRuns: 200,
    etlRows: 10_000,
    etlConcurrency: 20,
  },
  quick: {
    chainLength: 10,
    chainTaskMs: 10,
    chainRepeats: 1,
    throughputTasks: 2_000,
    throughputRepeats: 1,
    throughputRounds: 1,
    latencyRate: 100,
    latencySeconds: 2,
    etlRuns: 6,
    etlRows: 1_000,
    etlConcurrency: 20,
  },
};

export type NodeChoice = "image" | "current";

/** The whole file: `machine` and `results` as issue 7 specifies them, and how the run was made. */
export interface BenchReport {
  machine: Machine;
  results: Result[];
  run: {
    mode: Mode;
    started_at: string;
    seconds: number;
    workloads: Workload[];
    systems: System[];
    sizes: Sizes;
    /** Each system's set-up, as written in its rows' notes. */
    settings: Partial<Record<System, string>>;
    /** On the image's Node major (`image_node`, from infra/Dockerfile), or on the one that started the bench (`--node current`). */
    node?: NodeChoice;
    image_node?: number;
    /** When W2 or W3 ran on Sluice: the traced cluster's set-up, and what its processes exported in all. */
    tracing?: { settings: string; requests: number; bytes: number };
  };
}

/** The variants, shared by the workloads (which produce them) and the checks (which expect them). */
export const VARIANT = {
  chainInline: "inline tasks",
  chainQueued: "queued tasks",
  throughput: "no-op tasks, 2 workers",
  throughputInFlow: "no-op tasks, results back in the flow",
  toRunning: "to Running",
  toCompleted: "to Completed",
  etl: "ETL pipeline, 2 workers",
  etlPlain: "plain function calls, 1 process",
  workerW2: "worker, during W2",
  serverW2: "server, during W2",
  workerW3: "worker, during W3",
  serverW3: "server, during W3",
} as const;

const TRACING_ON = " (tracing on)";
/** The variant of a measurement made on the traced cluster (see tracing.ts): "<variant> (tracing on)". */
export const tracingOn = (variant: string) => `${variant}${TRACING_ON}`;
export const isTracingOn = (variant: string) => variant.endsWith(TRACING_ON);
/** The variant measured with tracing off that this one is beside (itself when it is not traced). */
export const tracingOffVariant = (variant: string) =>
  isTracingOn(variant) ? variant.slice(0, -TRACING_ON.length) : variant;

type RowKey = Omit<Result, "value" | "notes">;

/** Every row a run of these workloads and systems must produce. */
export function expectedRows(workloads: readonly Workload[], systems: readonly System[]): RowKey[] {
  const rows: RowKey[] = [];
  const add = (workload: Workload, system: System, variant: string, metrics: Metric[]) => {
    if (!workloads.includes(workload) || !systems.includes(system)) return;
    for (const metric of metrics) rows.push({ workload, system, variant, metric });
  };
  const percentiles: Metric[] = ["p50_ms", "p95_ms", "p99_ms"];
  add("W1", "sluice", VARIANT.chainInline, ["seconds"]);
  for (const system of SYSTEMS) add("W1", system, VARIANT.chainQueued, ["seconds"]);
  for (const system of SYSTEMS) add("W2", system, VARIANT.throughput, ["tasks_per_s"]);
  add("W2", "sluice", VARIANT.throughputInFlow, ["tasks_per_s"]);
  // W2 and W3 again with tracing on, and what it costs.
  add("W2", "sluice", tracingOn(VARIANT.throughput), ["tasks_per_s", "overhead_pct"]);
  add("W2", "sluice", tracingOn(VARIANT.throughputInFlow), ["tasks_per_s"]);
  for (const system of SYSTEMS) add("W3", system, VARIANT.toRunning, percentiles);
  add("W3", "sluice", VARIANT.toCompleted, percentiles);
  add("W3", "sluice", tracingOn(VARIANT.toRunning), [...percentiles, "overhead_pct"]);
  add("W3", "sluice", tracingOn(VARIANT.toCompleted), percentiles);
  add("W4", "sluice", VARIANT.etl, ["seconds", "overhead_pct"]);
  add("W4", "sluice", VARIANT.etlPlain, ["seconds"]);
  // Memory is measured during W2 and W3.
  if (workloads.includes("W2")) {
    add("memory", "sluice", VARIANT.workerW2, ["rss_mb"]);
    add("memory", "sluice", VARIANT.serverW2, ["rss_mb"]);
    for (const peer of PEERS) add("memory", peer, VARIANT.workerW2, ["rss_mb"]);
    add("memory", "sluice", tracingOn(VARIANT.workerW2), ["rss_mb"]);
    add("memory", "sluice", tracingOn(VARIANT.serverW2), ["rss_mb"]);
  }
  if (workloads.includes("W3")) {
    add("memory", "sluice", VARIANT.workerW3, ["rss_mb"]);
    add("memory", "sluice", VARIANT.serverW3, ["rss_mb"]);
    add("memory", "sluice", tracingOn(VARIANT.workerW3), ["rss_mb"]);
    add("memory", "sluice", tracingOn(VARIANT.serverW3), ["rss_mb"]);
  }
  return rows;
}

const keyOf = (row: RowKey) => `${row.workload} | ${row.system} | ${row.variant} | ${row.metric}`;

/**
 * What is wrong with a report: expected rows missing, rows with a value that is not a finite
 * number (or negative where it cannot be), rows twice. Empty when the report is complete.
 */
export function reportProblems(report: BenchReport): string[] {
  const problems: string[] = [];
  const machine = report.machine;
  if (!machine || !(machine.cores > 0) || !machine.node || !machine.redis || !machine.postgres) {
    problems.push(`machine is incomplete: ${JSON.stringify(machine)}`);
  }
  const ranOn = Number(/^v(\d+)\./.exec(machine?.node ?? "")?.[1]);
  if (report.run?.node === "image" && ranOn !== report.run.image_node) {
    problems.push(`ran on Node ${machine?.node}, not on the image's Node ${report.run.image_node} (infra/Dockerfile)`);
  }
  const seen = new Map<string, Result>();
  for (const row of report.results ?? []) {
    const key = keyOf(row);
    if (seen.has(key)) problems.push(`row twice: ${key}`);
    seen.set(key, row);
    if (typeof row.value !== "number" || !Number.isFinite(row.value)) problems.push(`not a finite value: ${key}`);
    else if (row.metric !== "overhead_pct" && row.value < 0) problems.push(`negative value: ${key} = ${row.value}`);
  }
  const workloads = report.run?.workloads ?? [...WORKLOADS];
  const systems = report.run?.systems ?? [...SYSTEMS];
  const expected = expectedRows(workloads, systems);
  for (const row of expected) {
    if (!seen.has(keyOf(row))) problems.push(`missing row: ${keyOf(row)}`);
  }
  // The tracing-on rows count only if spans really reached the receiver.
  const tracing = report.run?.tracing;
  if (expected.some((row) => isTracingOn(row.variant)) && !(tracing && tracing.requests > 0 && tracing.bytes > 0)) {
    problems.push(`tracing on: no spans reached the OTLP receiver (${JSON.stringify(tracing ?? null)})`);
  }
  return problems;
}

/** The value of the best peer measuring the same thing (same workload, variant and metric), if any. */
export function bestPeer(results: readonly Result[], row: RowKey): Result | undefined {
  const better = HIGHER_IS_BETTER.has(row.metric) ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let best: Result | undefined;
  for (const other of results) {
    if (other.system === "sluice" || other.workload !== row.workload) continue;
    if (other.variant !== row.variant || other.metric !== row.metric) continue;
    if (!best || better(other.value, best.value)) best = other;
  }
  return best;
}

export interface Goal {
  text: string;
  /** Null when the run lacks what the goal compares with (a `--systems` run without the peers). */
  met: boolean | null;
}

/** DESIGN.md's performance goal for a Sluice row, when there is one. */
export function goalOf(results: readonly Result[], row: Result): Goal | undefined {
  if (row.system !== "sluice") return undefined;
  const peer = (system: Peer) =>
    results.find((r) => r.system === system && r.workload === row.workload && r.variant === row.variant)?.value;
  switch (`${row.workload}/${row.variant}/${row.metric}`) {
    case `W1/${VARIANT.chainInline}/seconds`:
      return { text: "≤ 0.45 s", met: row.value <= 0.45 };
    case `W1/${VARIANT.chainQueued}/seconds`:
      return { text: "≤ 0.50 s", met: row.value <= 0.5 };
    case `W2/${VARIANT.throughput}/tasks_per_s`: {
      const bullmq = peer("bullmq");
      const others = [peer("graphile-worker"), peer("pg-boss")];
      const text = "≥ 60% of bullmq, ahead of graphile-worker and pg-boss";
      if (bullmq === undefined || others.some((v) => v === undefined)) return { text, met: null };
      return { text, met: row.value >= 0.6 * bullmq && others.every((v) => row.value > (v as number)) };
    }
    case `W3/${VARIANT.toRunning}/p50_ms`:
      return { text: "≤ 5 ms", met: row.value <= 5 };
    case `W3/${VARIANT.toRunning}/p99_ms`:
      return { text: "≤ 25 ms", met: row.value <= 25 };
    case `W2/${tracingOn(VARIANT.throughput)}/overhead_pct`:
      return { text: "≤ 15% (issue 8)", met: row.value <= 15 };
    case `W4/${VARIANT.etl}/overhead_pct`:
      return { text: "≤ 10%", met: row.value <= 10 };
    case `memory/${VARIANT.workerW2}/rss_mb`:
      return { text: "< 200 MB", met: row.value < 200 };
    default:
      return undefined;
  }
}

/**
 * The rows of several rounds as one list, in the order they first came: a row measured in more
 * than one round keeps the median of its values (the largest, for a peak RSS), the notes of the
 * round it took it from, and every round's value.
 */
export function mergeRounds(rounds: readonly (readonly Result[])[]): Result[] {
  const byKey = new Map<string, Result[]>();
  for (const row of rounds.flat()) {
    const key = `${row.workload}/${row.system}/${row.variant}/${row.metric}`;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  return [...byKey.values()].map((rows) => {
    const [first] = rows;
    if (!first || rows.length === 1) return first as Result;
    const values = rows.map((row) => row.value);
    const peak = first.metric === "rss_mb";
    const value = peak ? Math.max(...values) : median(values);
    const kept = rows.reduce((best, row) => (Math.abs(row.value - value) < Math.abs(best.value - value) ? row : best));
    const each = values.map((v) => v.toLocaleString("en-US", { maximumFractionDigits: 2 })).join(", ");
    return {
      ...kept,
      value: round(value),
      notes: [`${peak ? "the largest" : "the median"} of ${rows.length} rounds (${each})`, kept.notes]
        .filter(Boolean)
        .join("; "),
    };
  });
}

/** The p-th percentile (nearest rank) of some numbers; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** The median (the mean of the middle two for an even count); NaN when there are none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[middle] as number;
  return sorted.length === 0 ? Number.NaN : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Rounds for the JSON: 3 significant decimals at most, without float noise. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.abs(value) >= 100 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return Number(value.toFixed(digits));
}
