/**
 * The progress display on stderr: on a terminal one line redrawn in place (a bar, the step and
 * its own progress, the time so far); elsewhere (CI logs) one line when a step starts and one
 * when it ends.
 */

export interface Step {
  id: string;
  label: string;
  /** Roughly how long it takes, relative to the other steps (seconds are a good unit). */
  weight: number;
}

const BAR_WIDTH = 24;

export class Progress {
  private readonly tty: boolean;
  private readonly total: number;
  private readonly began = performance.now();
  private doneWeight = 0;
  private current: Step | undefined;
  private stepBegan = 0;
  private fraction = 0;
  private detail = "";
  private lastDraw = 0;
  private drawn = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly steps: readonly Step[],
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY) && process.env.CI === undefined;
    this.total = steps.reduce((sum, step) => sum + step.weight, 0) || 1;
    if (this.tty) {
      this.timer = setInterval(() => this.draw(true), 500);
      this.timer.unref();
    }
  }

  /** Starts the step `id` (one of the steps given to the constructor). */
  start(id: string): void {
    const step = this.steps.find((s) => s.id === id);
    if (!step) throw new Error(`unknown progress step ${id}`);
    this.current = step;
    this.stepBegan = performance.now();
    this.fraction = 0;
    this.detail = "";
    if (this.tty) this.draw(true);
    else this.stream.write(`▸ ${step.label}\n`);
  }

  /** How far the current step is (0..1), and a few words about it ("12,000/20,000 tasks"). */
  update(fraction: number, detail = ""): void {
    this.fraction = Math.max(0, Math.min(1, fraction));
    this.detail = detail;
    this.draw(false);
  }

  /** Ends the current step, with its outcome in a few words. */
  done(summary = ""): void {
    const step = this.current;
    if (!step) return;
    this.doneWeight += step.weight;
    this.current = undefined;
    const seconds = ((performance.now() - this.stepBegan) / 1000).toFixed(1);
    if (this.tty) {
      this.clear();
      this.stream.write(`✓ ${step.label} (${seconds} s)${summary ? `: ${summary}` : ""}\n`);
      this.draw(true);
    } else {
      this.stream.write(`  ✓ ${step.label} (${seconds} s)${summary ? `: ${summary}` : ""}\n`);
    }
  }

  /** Prints a line above the progress line. */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
    this.draw(true);
  }

  /** Removes the progress line for good. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const weight = this.doneWeight + (this.current ? this.current.weight * this.fraction : 0);
    const share = Math.min(1, weight / this.total);
    const filled = Math.round(share * BAR_WIDTH);
    const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
    const elapsed = formatDuration((now - this.began) / 1000);
    const what = this.current ? `${this.current.label}${this.detail ? ` · ${this.detail}` : ""}` : "";
    let line = `${bar} ${String(Math.floor(share * 100)).padStart(3)}% ${elapsed}  ${what}`;
    const columns = this.stream.columns || 100;
    if (line.length > columns - 1) line = `${line.slice(0, columns - 2)}…`;
    this.stream.write(`\r\x1b[2K${line}`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.tty && this.drawn) this.stream.write("\r\x1b[2K");
    this.drawn = false;
  }
}

export function formatDuration(seconds: number): string {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
