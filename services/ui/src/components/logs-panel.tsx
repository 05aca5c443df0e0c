/** A run's log lines, live, with a level filter (server side) and a search (over the lines loaded). */
import type { ApiLog } from "@sluice/client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useSession } from "../api/session";
import { formatTime, LOG_LEVELS, levelName } from "../lib/format";
import { Empty, ErrorMessage, Loading } from "./feedback";

const PAGE = 200;

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
  const logs = useInfiniteQuery({
    queryKey: [...queryKey, level],
    queryFn: ({ pageParam }) =>
      client.filterLogs({
        logs: { ...criteria, level: { ge_: level } },
        sort: "TIMESTAMP_ASC",
        limit: PAGE,
        offset: pageParam,
      }),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.length < PAGE ? undefined : pages.length * PAGE),
  });
  const lines: ApiLog[] = useMemo(() => logs.data?.pages.flat() ?? [], [logs.data]);
  const needle = search.trim().toLowerCase();
  const shown = needle ? lines.filter((line) => line.message.toLowerCase().includes(needle)) : lines;

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
      ) : shown.length === 0 ? (
        <Empty>
          <p>{lines.length === 0 ? "No log lines at this level yet." : "No log line matches the search."}</p>
        </Empty>
      ) : (
        <ol className="logs" aria-label="Log lines">
          {shown.map((line) => (
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
