/**
 * A strict parser of Prometheus's text exposition format (0.0.4), for the tests: HELP/TYPE lines,
 * samples with escaped label values, every sample belonging to a declared family. Throws on any
 * line that is not valid.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PrometheusText {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = {
  counter: [""],
  gauge: [""],
  untyped: [""],
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/** As Prometheus parses them (Go's ParseFloat): NaN and Inf in any case. */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Number.POSITIVE_INFINITY;
  if (/^-inf(inity)?$/i.test(text)) return Number.NEGATIVE_INFINITY;
  if (/^nan$/i.test(text)) return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value '${text}' in: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const pattern = new RegExp(`\\s*(${NAME})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"\\s*(,|$)`, "y");
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) throw new Error(`bad labels '${text}' in: ${line}`);
    const [, key = "", raw = ""] = match;
    if (key in labels) throw new Error(`duplicate label ${key} in: ${line}`);
    labels[key] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    at = pattern.lastIndex;
  }
  return labels;
}

export function parsePrometheusText(text: string): PrometheusText {
  const result: PrometheusText = { types: new Map(), help: new Map(), samples: [] };
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const meta = new RegExp(`^#\\s+(HELP|TYPE)\\s+(${NAME})(?:\\s(.*))?$`).exec(line);
      if (!meta) continue; // a plain comment
      const [, kind, name = "", rest = ""] = meta;
      if (kind === "TYPE") {
        if (!TYPES.has(rest.trim())) throw new Error(`bad type in: ${line}`);
        if (result.types.has(name)) throw new Error(`second TYPE for ${name}`);
        if (result.samples.some((s) => s.name === name)) throw new Error(`TYPE after samples of ${name}`);
        result.types.set(name, rest.trim());
      } else {
        result.help.set(name, rest);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const [, name = "", labels = "", value = ""] = match;
    const family = [...result.types].find(([base, type]) =>
      (SUFFIXES[type] ?? [""]).some((suffix) => `${base}${suffix}` === name),
    );
    if (!family) throw new Error(`sample of an undeclared metric: ${line}`);
    result.samples.push({ name, labels: parseLabels(labels, line), value: parseValue(value, line) });
  }
  return result;
}

/** The value of the sample `name` with exactly these labels (undefined when absent). */
export function sampleValue(metrics: PrometheusText, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels);
  return metrics.samples.find(
    (sample) =>
      sample.name === name &&
      Object.keys(sample.labels).length === wanted.length &&
      wanted.every(([key, value]) => sample.labels[key] === value),
  )?.value;
}
