/**
 * Checks a results file without running anything (no vitest): every row its workloads and systems
 * call for is there, once, with a finite value (W2 and W3 with tracing on too, and their spans
 * reached the receiver), and the machine is described. Timings are not judged. Exits 1 when
 * something is wrong.
 *
 *   npm run bench:check -- [bench/results/quick/latest.json]
 */
import { readFileSync } from "node:fs";
import { describeReceived } from "./otlp-receiver.js";
import { type BenchReport, expectedRows, reportProblems } from "./results.js";

const file = process.argv[2] ?? "bench/results/quick/latest.json";
let report: BenchReport;
try {
  report = JSON.parse(readFileSync(file, "utf8")) as BenchReport;
} catch (error) {
  process.stderr.write(`bench:check: cannot read ${file}: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
}
const problems = reportProblems(report);
if (problems.length > 0) {
  process.stderr.write(`bench:check: ${file} is incomplete:\n${problems.map((p) => `  - ${p}`).join("\n")}\n`);
  process.exit(1);
}
const expected = expectedRows(report.run.workloads, report.run.systems).length;
process.stdout.write(
  `bench:check: ${file} is complete: ${report.results.length} rows (${expected} expected), ` +
    `${report.run.mode} run on ${report.machine.cores} cores` +
    (report.run.tracing ? `; tracing on: the OTLP receiver got ${describeReceived(report.run.tracing)}` : "") +
    "\n",
);
