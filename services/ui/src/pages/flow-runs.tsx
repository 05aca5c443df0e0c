/**
 * Flow runs: the filtered, sorted table, paginated through POST /api/flow_runs/filter (pages of
 * 200 loaded as the list scrolls) and virtualized (only visible rows are in the DOM), so 100,000
 * runs cost what one screen does. The filters live in the URL.
 */
import type { ApiFlowRun } from "@sluice/client";
import { STATE_TYPES, type StateType } from "@sluice/core/states";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useLiveInvalidation } from "../api/live-events";
import { useDeploymentNames, useDeployments, useFlowNames, useFlows } from "../api/lookups";
import { useSession } from "../api/session";
import { Empty, ErrorMessage, Loading } from "../components/feedback";
import { LiveIndicator } from "../components/layout";
import { StateBadge } from "../components/state-badge";
import { formatDuration, formatTime } from "../lib/format";
import {
  filterBody,
  filterCriteria,
  filtersFromSearch,
  filtersToSearch,
  RUN_SORTS,
  type RunFilters,
  type RunSort,
  sinceHours,
} from "../lib/run-filters";

const PAGE = 200;
const ROW_HEIGHT = 40;
const SORT_LABELS: Record<RunSort, string> = {
  EXPECTED_START_TIME_DESC: "Newest first",
  EXPECTED_START_TIME_ASC: "Oldest first",
  START_TIME_DESC: "Started, newest first",
  START_TIME_ASC: "Started, oldest first",
  END_TIME_DESC: "Ended, newest first",
  NAME_ASC: "Name A–Z",
  NAME_DESC: "Name Z–A",
};
const RANGES = [
  { label: "Any time", hours: 0 },
  { label: "Last hour", hours: 1 },
  { label: "Last 24 hours", hours: 24 },
  { label: "Last 7 days", hours: 168 },
];

export function FlowRunsPage() {
  const [search, setSearch] = useSearchParams();
  const filters = useMemo(() => filtersFromSearch(search), [search]);
  const setFilters = (next: RunFilters) => setSearch(filtersToSearch(next), { replace: true });
  const live = useLiveInvalidation(undefined, [["flow-runs"], ["flow-runs-count"]]);

  return (
    <>
      <div className="page-title">
        <h1>Flow runs</h1>
        <LiveIndicator status={live} />
      </div>
      <FilterBar filters={filters} onChange={setFilters} />
      <RunTable filters={filters} />
    </>
  );
}

function FilterBar({ filters, onChange }: { filters: RunFilters; onChange: (filters: RunFilters) => void }) {
  const flows = useFlows();
  const deployments = useDeployments();
  const [name, setName] = useState(filters.name);
  const [tag, setTag] = useState(filters.tags.join(", "));
  useEffect(() => setName(filters.name), [filters.name]);
  useEffect(() => setTag(filters.tags.join(", ")), [filters.tags]);

  const submitText = (event: FormEvent) => {
    event.preventDefault();
    const tags = tag
      .split(",")
      .map((value) => value.trim())
      .filter(Boolean);
    onChange({ ...filters, name: name.trim(), tags });
  };

  return (
    <form className="filters" onSubmit={submitText} aria-label="Filter flow runs">
      <label>
        State
        <select
          value={filters.states[0] ?? ""}
          onChange={(event) =>
            onChange({ ...filters, states: event.target.value ? [event.target.value as StateType] : [] })
          }
        >
          <option value="">All states</option>
          {STATE_TYPES.map((state) => (
            <option key={state} value={state}>
              {state.charAt(0) + state.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        Flow
        <select
          value={filters.flowIds[0] ?? ""}
          onChange={(event) => onChange({ ...filters, flowIds: event.target.value ? [event.target.value] : [] })}
        >
          <option value="">All flows</option>
          {(flows.data ?? []).map((flow) => (
            <option key={flow.id} value={flow.id}>
              {flow.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Deployment
        <select
          value={filters.deploymentIds[0] ?? ""}
          onChange={(event) => onChange({ ...filters, deploymentIds: event.target.value ? [event.target.value] : [] })}
        >
          <option value="">All deployments</option>
          {(deployments.data ?? []).map((deployment) => (
            <option key={deployment.id} value={deployment.id}>
              {deployment.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Quick range
        <select
          value=""
          onChange={(event) => {
            const hours = Number(event.target.value);
            onChange({ ...filters, from: hours ? sinceHours(hours) : null, to: null });
          }}
        >
          <option value="" disabled>
            Choose…
          </option>
          {RANGES.map((range) => (
            <option key={range.hours} value={range.hours}>
              {range.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input
          type="datetime-local"
          value={toLocalInput(filters.from)}
          onChange={(event) => onChange({ ...filters, from: fromLocalInput(event.target.value) })}
        />
      </label>
      <label>
        To
        <input
          type="datetime-local"
          value={toLocalInput(filters.to)}
          onChange={(event) => onChange({ ...filters, to: fromLocalInput(event.target.value) })}
        />
      </label>
      <label>
        Sort
        <select
          value={filters.sort}
          onChange={(event) => onChange({ ...filters, sort: event.target.value as RunSort })}
        >
          {RUN_SORTS.map((sort) => (
            <option key={sort} value={sort}>
              {SORT_LABELS[sort]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Name
        <input
          type="search"
          value={name}
          onChange={(event) => setName(event.target.value)}
          placeholder="part of a name"
        />
      </label>
      <label>
        Tags
        <input type="text" value={tag} onChange={(event) => setTag(event.target.value)} placeholder="etl, daily" />
      </label>
      <button type="submit">Apply</button>
    </form>
  );
}

/** ISO → the `datetime-local` input's local "YYYY-MM-DDTHH:mm". */
function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

function RunTable({ filters }: { filters: RunFilters }) {
  const { client } = useSession();
  const flowNames = useFlowNames();
  const deploymentNames = useDeploymentNames();
  const runs = useInfiniteQuery({
    queryKey: ["flow-runs", filters],
    queryFn: ({ pageParam }) => client.filterFlowRuns(filterBody(filters, { limit: PAGE, offset: pageParam })),
    initialPageParam: 0,
    getNextPageParam: (last, pages) => (last.length < PAGE ? undefined : pages.length * PAGE),
  });
  const count = useQuery({
    queryKey: ["flow-runs-count", filters],
    queryFn: () => client.countFlowRuns(filterCriteria(filters)),
  });
  const rows: ApiFlowRun[] = useMemo(() => runs.data?.pages.flat() ?? [], [runs.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? 0;
  const paddingTop = items[0]?.start ?? 0;
  const paddingBottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = runs;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - 20) void fetchNextPage();
  }, [lastIndex, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (runs.isPending) return <Loading what="flow runs" />;
  if (runs.isError) return <ErrorMessage error={runs.error} title="Could not load flow runs" />;
  if (rows.length === 0) {
    const filtered = Object.keys(filterCriteria(filters)).length > 0;
    return (
      <Empty>
        {filtered ? (
          <p>No flow run matches these filters.</p>
        ) : (
          <>
            <p>No flow runs yet. Run a flow, or start a run of a deployment:</p>
            <pre>
              npx sluice run examples/flows/etl_pipeline.ts{"\n"}npx sluice deployment run "ETL Pipeline/daily-etl"
            </pre>
          </>
        )}
      </Empty>
    );
  }
  return (
    <section aria-label="Flow runs">
      <p className="muted" aria-live="polite">
        {count.data === undefined ? `${rows.length}${hasNextPage ? "+" : ""}` : count.data.toLocaleString()} flow run
        {count.data === 1 ? "" : "s"}
      </p>
      <div ref={scroller} className="table-scroll">
        <table className="runs" aria-label="Flow runs" aria-rowcount={(count.data ?? rows.length) + 1}>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Flow</th>
              <th scope="col">Deployment</th>
              <th scope="col">Expected start</th>
              <th scope="col">Duration</th>
              <th scope="col">Tags</th>
            </tr>
          </thead>
          <tbody>
            {/* Only the visible rows are rendered; spacer rows keep the scroll height right. */}
            {paddingTop > 0 ? <tr style={{ height: paddingTop }} /> : null}
            {items.map((item) => {
              const run = rows[item.index] as ApiFlowRun;
              return (
                <tr key={run.id} aria-rowindex={item.index + 2} style={{ height: ROW_HEIGHT }}>
                  <td>
                    <Link to={`/flow-runs/${run.id}`}>{run.name}</Link>
                  </td>
                  <td>
                    <StateBadge type={run.state_type} name={run.state_name} />
                  </td>
                  <td>{flowNames.get(run.flow_id) ?? "…"}</td>
                  <td>{run.deployment_id ? (deploymentNames.get(run.deployment_id) ?? "…") : "—"}</td>
                  <td>{formatTime(run.expected_start_time)}</td>
                  <td>{formatDuration(run.total_run_time)}</td>
                  <td className="tags">{run.tags.join(", ")}</td>
                </tr>
              );
            })}
            {paddingBottom > 0 ? <tr style={{ height: paddingBottom }} /> : null}
          </tbody>
        </table>
      </div>
      {isFetchingNextPage ? <Loading what="more runs" /> : null}
    </section>
  );
}
