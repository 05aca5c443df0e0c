/** A run's log lines, live, with a level filter and a text search (both answered by the server). */
import type { ApiLog } from "@sluice/client";
import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { useSession } from "../api/session";
import { formatTime, LOG_LEVELS, levelName } from "../lib/format";
import { Empty, ErrorMessage, Loading } from "./feedback";

const PAGE = 200;
/** The search is sent once typing pauses this long. */
const SEARCH_DELAY_MS = 300;

/** `value`, once it has stopped changing for `delayMs`. */
function useSettled<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export function LogsPanel({
  criteria,
  queryKey,
  taskNames = new Map(),
}: {
  /** The `logs` criteria: `{flow_run_id: {any_: [id]}}` or `{task_run_id: …}`. */
  criteria: Record<string, unknown>;
  queryKey: readonly unknown[];
  taskNames?: Map<string, string>;
}) {
  const { client } = useSession();
  const [level, setLevel] = useState(20);
  const [search, setSearch] = useState("");
  const query = useSettled(search.trim(), SEARCH_DELAY_MS);
  const logs = useInfiniteQuery({
    queryKey: [...queryKey, level, query],
    queryFn: ({ pageParam }) =>
      client.filterLogs({
        logs: { ...criteria, level: { ge_: level }, ...(query ? { text: { query } } : {}) },
        sort: "TIMESTAMP_ASC",
        limit: PAGE,
        offset: pageParam,
      }),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.length < PAGE ? undefined : pages.length * PAGE),
    placeholderData: keepPreviousData, // no flash of "Loading" while the search is typed
  });
  const lines: ApiLog[] = useMemo(() => logs.data?.pages.flat() ?? [], [logs.data]);

  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">Logs</h2>
      <div className="filters">
        <label>
          Level
          <select value={level} onChange={(event) => setLevel(Number(event.target.value))}>
            {LOG_LEVELS.map((entry) => (
              <option key={entry.value} value={entry.value}>
                {entry.label} and above
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
        </label>
      </div>
      {logs.isPending ? (
        <Loading what="logs" />
      ) : logs.isError ? (
        <ErrorMessage error={logs.error} title="Could not load the logs" />
      ) : lines.length === 0 ? (
        <Empty>
          <p>{query ? "No log line matches the search." : "No log lines at this level yet."}</p>
        </Empty>
      ) : (
        <ol className="logs" aria-label="Log lines">
          {lines.map((line) => (
            <li key={line.id} className={`log log-${levelName(line.level).toLowerCase()}`}>
              <time dateTime={line.timestamp}>{formatTime(line.timestamp)}</time>
              <span className="log-level">{levelName(line.level)}</span>
              <span className="log-source">
                {line.task_run_id ? (taskNames.get(line.task_run_id) ?? "task") : "flow"}
              </span>
              <span className="log-message">{line.message}</span>
            </li>
          ))}
        </ol>
      )}
      {logs.hasNextPage ? (
        <button type="button" className="secondary" onClick={() => void logs.fetchNextPage()}>
          Load more lines
        </button>
      ) : null}
    </section>
  );
}
