/** How times, durations and states read in the UI. */

/** "1.2 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A timestamp in the reader's locale, to the second. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

/** "5 s ago", "in 3 h", relative to `now`. */
export function formatRelative(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "—";
  const delta = (new Date(iso).getTime() - now) / 1000;
  const abs = Math.abs(delta);
  const text =
    abs < 60
      ? `${Math.round(abs)} s`
      : abs < 3600
        ? `${Math.round(abs / 60)} min`
        : abs < 86_400
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86_400)} d`;
  return delta < 0 ? `${text} ago` : `in ${text}`;
}

/** States shown as finished (cancel is offered before, retry after). */
export function isFinalState(type: string | null | undefined): boolean {
  return type === "COMPLETED" || type === "FAILED" || type === "CANCELLED" || type === "CRASHED";
}

/** The CSS class of a state's colour (defined in styles.css for light and dark). */
export function stateClass(type: string | null | undefined): string {
  return `state-${(type ?? "none").toLowerCase()}`;
}

export const LOG_LEVELS = [
  { value: 10, label: "DEBUG" },
  { value: 20, label: "INFO" },
  { value: 30, label: "WARNING" },
  { value: 40, label: "ERROR" },
  { value: 50, label: "CRITICAL" },
] as const;

export function levelName(level: number): string {
  let name = "DEBUG";
  for (const entry of LOG_LEVELS) if (level >= entry.value) name = entry.label;
  return name;
}

/** The tracing UI's link to a trace: `{trace_id}` in the configured URL replaced, or the id appended. */
export function traceLink(template: string, traceId: string): string {
  return template.includes("{trace_id}")
    ? template.replaceAll("{trace_id}", traceId)
    : `${template.replace(/\/+$/, "")}/${traceId}`;
}
