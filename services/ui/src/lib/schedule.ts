/** A deployment schedule in words ("At 06:00, every day, UTC"), as the Deployments page shows it. */
import cronstrue from "cronstrue";

export type ScheduleSpec =
  | { cron: string; timezone?: string | null }
  | { interval: number; anchor_date?: string | null; timezone?: string | null };

/** "Every 15 minutes", "Every 2 hours", "Every 90 seconds": the largest unit that divides the interval. */
export function describeInterval(seconds: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3_600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) {
      const count = seconds / size;
      return count === 1 ? `Every ${unit}` : `Every ${count} ${unit}s`;
    }
  }
  return `Every ${seconds} seconds`;
}

/** cronstrue's sentence, with "every day" when only the time is fixed, and the time zone. */
export function describeCron(expression: string, timezone?: string | null): string {
  let words: string;
  try {
    words = cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return `${expression} (not a valid cron expression)`;
  }
  const fields = expression.trim().split(/\s+/);
  const [, , dayOfMonth, month, dayOfWeek] = fields.length === 6 ? fields.slice(1) : fields;
  const everyDay = fields.length >= 5 && dayOfMonth === "*" && month === "*" && dayOfWeek === "*";
  if (everyDay && /^At \d\d:\d\d$/.test(words)) words += ", every day";
  return `${words}, ${timezone || "UTC"}`;
}

export function describeSchedule(schedule: ScheduleSpec): string {
  if ("cron" in schedule) return describeCron(schedule.cron, schedule.timezone);
  return describeInterval(schedule.interval);
}
