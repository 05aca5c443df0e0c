/** When a deployment's schedules are due: cron (in a time zone, DST included, via croner) or fixed intervals. */
import { InvalidInputError } from "@sluice/core";
import { Cron } from "croner";

export type Schedule =
  | { cron: string; timezone: string | null }
  | { intervalSeconds: number; anchorDate: Date | null; timezone: string | null };

/** Validates a cron expression and time zone; throws InvalidInputError naming the problem. */
export function validateCron(expression: string, timezone: string | null): void {
  try {
    new Cron(expression, { timezone: timezone ?? "UTC", paused: true });
  } catch (error) {
    throw new InvalidInputError(
      `Invalid cron schedule '${expression}' (${timezone ?? "UTC"}): ${(error as Error).message}`,
    );
  }
}

/** Due times strictly after `after` and no later than `until`, at most `max` of them. */
export function dueTimes(schedule: Schedule, after: Date, until: Date, max: number): Date[] {
  const times: Date[] = [];
  if ("cron" in schedule) {
    const cron = new Cron(schedule.cron, { timezone: schedule.timezone ?? "UTC", paused: true });
    let cursor: Date | null = after;
    while (times.length < max) {
      cursor = cron.nextRun(cursor);
      if (!cursor || cursor > until) break;
      times.push(cursor);
    }
    return times;
  }
  const step = schedule.intervalSeconds * 1000;
  if (!(step > 0)) throw new InvalidInputError(`Invalid interval: ${schedule.intervalSeconds}s`);
  const anchor = (schedule.anchorDate ?? new Date(0)).getTime();
  // First multiple of the interval after `after`, counted from the anchor.
  let next = anchor + Math.max(0, Math.floor((after.getTime() - anchor) / step) + 1) * step;
  while (times.length < max && next <= until.getTime()) {
    times.push(new Date(next));
    next += step;
  }
  return times;
}
