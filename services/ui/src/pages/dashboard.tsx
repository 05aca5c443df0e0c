/**
 * The dashboard: flow runs over the last 24 hours by state, what is running now, recent failures
 * and late runs, work pools with their workers and queue depth. Refreshed by run events.
 */
import type { ApiFlowRun, ApiHistoryBucket } from "@sluice/client";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useLiveInvalidation } from "../api/live-events";
import { useSession } from "../api/session";
import { Empty, QueryView } from "../components/feedback";
import { LiveIndicator } from "../components/layout";
import { StateBadge } from "../components/state-badge";
import { formatRelative } from "../lib/format";

/** The chart's series: state types grouped as people read them. */
const SERIES = [
  { key: "Completed", types: ["COMPLETED"], color: "var(--completed)" },
  { key: "Failed", types: ["FAILED", "CRASHED"], color: "var(--failed)" },
  { key: "Running", types: ["RUNNING", "PENDING", "CANCELLING"], color: "var(--running)" },
  { key: "Scheduled", types: ["SCHEDULED", "PAUSED"], color: "var(--scheduled)" },
  { key: "Cancelled", types: ["CANCELLED"], color: "var(--cancelled)" },
] as const;

export function chartRows(buckets: ApiHistoryBucket[]) {
  return buckets.map((bucket) => {
    const row: Record<string, number | string> = {
      time: new Date(bucket.interval_start).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
    };
    for (const series of SERIES) {
      row[series.key] = bucket.states
        .filter((state) => (series.types as readonly string[]).includes(state.state_type ?? ""))
        .reduce((sum, state) => sum + state.count_runs, 0);
    }
    return row;
  });
}

export function DashboardPage() {
  const { client } = useSession();
  const live = useLiveInvalidation(undefined, [["dashboard"]]);
  const history = useQuery({
    queryKey: ["dashboard", "history"],
    queryFn: () => {
      const end = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
      const start = new Date(end.getTime() - 24 * 3_600_000);
      return client.flowRunHistory({
        history_start: start.toISOString(),
        history_end: end.toISOString(),
        history_interval_seconds: 3600,
      });
    },
  });
  const running = useQuery({
    queryKey: ["dashboard", "running"],
    queryFn: () =>
      client.filterFlowRuns({
        flow_runs: { state: { type: { any_: ["RUNNING", "CANCELLING"] } } },
        sort: "START_TIME_DESC",
        limit: 10,
      }),
  });
  const failures = useQuery({
    queryKey: ["dashboard", "failures"],
    queryFn: () =>
      client.filterFlowRuns({
        flow_runs: { state: { type: { any_: ["FAILED", "CRASHED"] } } },
        sort: "END_TIME_DESC",
        limit: 10,
      }),
  });
  const late = useQuery({
    queryKey: ["dashboard", "late"],
    queryFn: () =>
      client.filterFlowRuns({
        flow_runs: { state: { name: { any_: ["Late"] } } },
        sort: "EXPECTED_START_TIME_ASC",
        limit: 10,
      }),
  });
  const recent = useQuery({
    queryKey: ["dashboard", "recent"],
    // Started runs only: a deployment's scheduled runs lie in the future and would hide them.
    queryFn: () =>
      client.filterFlowRuns({ flow_runs: { start_time: { is_null_: false } }, sort: "START_TIME_DESC", limit: 10 }),
  });

  return (
    <>
      <div className="page-title">
        <h1>Dashboard</h1>
        <LiveIndicator status={live} />
      </div>
      <section aria-labelledby="history-title" className="card">
        <h2 id="history-title">Flow runs, last 24 hours</h2>
        <QueryView query={history} what="the run history">
          {(buckets) =>
            buckets.every((bucket) => bucket.states.length === 0) ? (
              <Empty>
                <p>No flow runs in the last 24 hours. Start one:</p>
                <pre>npx sluice run examples/flows/etl_pipeline.ts</pre>
              </Empty>
            ) : (
              <div className="chart" role="img" aria-label="Bar chart of flow runs per hour by state">
                <ResponsiveContainer width="100%" height={220}>
                  <BarChart data={chartRows(buckets)}>
                    <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
                    <XAxis dataKey="time" stroke="var(--muted)" fontSize={12} />
                    <YAxis allowDecimals={false} stroke="var(--muted)" fontSize={12} />
                    <Tooltip contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)" }} />
                    <Legend />
                    {SERIES.map((series) => (
                      <Bar
                        key={series.key}
                        dataKey={series.key}
                        stackId="runs"
                        fill={series.color}
                        isAnimationActive={false}
                      />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </div>
            )
          }
        </QueryView>
      </section>
      <div className="columns">
        <RunList title="Running now" query={running} empty="Nothing is running." />
        <RunList title="Recent failures" query={failures} empty="No failed runs." />
        <RunList title="Late runs" query={late} empty="No late runs." />
        <RunList
          title="Latest runs"
          query={recent}
          empty="No runs yet: `npx sluice run examples/flows/etl_pipeline.ts`."
        />
      </div>
      <WorkPoolSummary />
    </>
  );
}

function RunList({
  title,
  query,
  empty,
}: {
  title: string;
  query: ReturnType<typeof useQuery<ApiFlowRun[]>>;
  empty: string;
}) {
  const id = `list-${title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <section aria-labelledby={id} className="card">
      <h2 id={id}>{title}</h2>
      <QueryView query={query} what={title.toLowerCase()}>
        {(runs) =>
          runs.length === 0 ? (
            <p className="muted">{empty}</p>
          ) : (
            <ul className="run-list">
              {runs.map((run) => (
                <li key={run.id}>
                  <Link to={`/flow-runs/${run.id}`}>{run.name}</Link>{" "}
                  <StateBadge type={run.state_type} name={run.state_name} />{" "}
                  <span className="muted">
                    {formatRelative(run.end_time ?? run.start_time ?? run.expected_start_time)}
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </QueryView>
    </section>
  );
}

function WorkPoolSummary() {
  const { client } = useSession();
  const pools = useQuery({
    queryKey: ["dashboard", "work-pools"],
    queryFn: async () => {
      const list = await client.filterWorkPools({});
      return Promise.all(list.map((pool) => client.readWorkPoolHealth(pool.name)));
    },
  });
  return (
    <section aria-labelledby="pools-title" className="card">
      <h2 id="pools-title">Work pools</h2>
      <QueryView query={pools} what="work pools">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              <p>No work pool yet. Start a worker; it creates its pool:</p>
              <pre>npx sluice worker start --pool default-agent-pool --flows examples/flows</pre>
            </Empty>
          ) : (
            <table className="simple">
              <thead>
                <tr>
                  <th scope="col">Pool</th>
                  <th scope="col">Workers online</th>
                  <th scope="col">Flow runs waiting</th>
                  <th scope="col">Running</th>
                  <th scope="col">Task runs waiting</th>
                </tr>
              </thead>
              <tbody>
                {list.map((pool) => (
                  <tr key={pool.name}>
                    <td>
                      <Link to="/work-pools">{pool.name}</Link>
                    </td>
                    <td>{pool.workers_online}</td>
                    <td>{pool.flow_runs.waiting}</td>
                    <td>{pool.flow_runs.running}</td>
                    <td>{pool.task_runs.waiting}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </section>
  );
}
