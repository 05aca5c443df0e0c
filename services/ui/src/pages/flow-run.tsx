/**
 * A flow run: state, timing, parameters, result, state history, its task runs and subflows on a
 * timeline, its logs, all live (Server-Sent Events for this run); Cancel while it runs, Retry after.
 */
import type { ApiFlowRun, ApiRunState, ApiTaskRun } from "@sluice/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { useLiveInvalidation } from "../api/live-events";
import { useDeploymentNames, useFlowNames } from "../api/lookups";
import { useSession } from "../api/session";
import { useUiSettings } from "../app";
import { Empty, ErrorMessage, QueryView } from "../components/feedback";
import { JsonView } from "../components/json-view";
import { LiveIndicator } from "../components/layout";
import { LogsPanel } from "../components/logs-panel";
import { RunOutcome } from "../components/run-outcome";
import { StateBadge } from "../components/state-badge";
import { Timeline } from "../components/timeline";
import { formatDuration, formatTime, isFinalState, traceLink } from "../lib/format";
import type { TimelineInput } from "../lib/timeline";

export function FlowRunPage() {
  const id = useParams().id ?? "";
  const { client } = useSession();
  const live = useLiveInvalidation(id, [
    ["flow-run", id],
    ["flow-run-states", id],
    ["task-runs", id],
    ["subflows", id],
    ["logs", id],
  ]);
  const run = useQuery({ queryKey: ["flow-run", id], queryFn: () => client.readFlowRun(id) });
  return (
    <QueryView query={run} what="the flow run">
      {(data) => <FlowRunView run={data} live={live} />}
    </QueryView>
  );
}

function FlowRunView({ run, live }: { run: ApiFlowRun; live: "connecting" | "live" | "reconnecting" }) {
  const { client } = useSession();
  const flowNames = useFlowNames();
  const deploymentNames = useDeploymentNames();
  const settings = useUiSettings();
  const states = useQuery({ queryKey: ["flow-run-states", run.id], queryFn: () => client.readFlowRunStates(run.id) });
  const taskRuns = useQuery({
    queryKey: ["task-runs", run.id],
    queryFn: () =>
      client.filterTaskRuns({
        task_runs: { flow_run_id: { any_: [run.id] } },
        sort: "EXPECTED_START_TIME_ASC",
        limit: 200,
      }),
  });
  const subflows = useQuery({
    queryKey: ["subflows", run.id],
    queryFn: () =>
      client.filterFlowRuns({
        flow_runs: { parent_flow_run_id: { any_: [run.id] } },
        sort: "EXPECTED_START_TIME_ASC",
        limit: 200,
      }),
  });
  const traceUrl =
    settings.data?.trace_ui_url && run.trace_id ? traceLink(settings.data.trace_ui_url, run.trace_id) : null;
  const taskNames = new Map((taskRuns.data ?? []).map((task) => [task.id, task.name]));

  return (
    <>
      <div className="page-title">
        <h1>
          <span className="muted">{flowNames.get(run.flow_id) ?? "Flow"} /</span> {run.name}
        </h1>
        <StateBadge type={run.state_type} name={run.state_name} />
        <LiveIndicator status={live} />
        <RunActions run={run} />
      </div>
      {run.state?.message ? <p className="state-message">{run.state.message}</p> : null}
      <dl className="facts">
        <div>
          <dt>Deployment</dt>
          <dd>
            {run.deployment_id ? (
              <Link to={`/deployments/${run.deployment_id}`}>
                {deploymentNames.get(run.deployment_id) ?? "deployment"}
              </Link>
            ) : (
              "— (ad hoc run)"
            )}
          </dd>
        </div>
        <div>
          <dt>Work pool</dt>
          <dd>{run.work_pool_name ?? "—"}</dd>
        </div>
        <div>
          <dt>Expected start</dt>
          <dd>{formatTime(run.expected_start_time)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.start_time)}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{formatTime(run.end_time)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(run.total_run_time)}</dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{run.run_count}</dd>
        </div>
        <div>
          <dt>Tags</dt>
          <dd>{run.tags.length ? run.tags.join(", ") : "—"}</dd>
        </div>
        {run.parent_task_run_id ? (
          <div>
            <dt>Parent</dt>
            <dd>
              <Link to={`/task-runs/${run.parent_task_run_id}`}>parent task run</Link>
            </dd>
          </div>
        ) : null}
        {traceUrl ? (
          <div>
            <dt>Trace</dt>
            <dd>
              <a href={traceUrl} target="_blank" rel="noreferrer">
                Open the trace
              </a>
            </dd>
          </div>
        ) : null}
      </dl>

      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Task runs and subflows</h2>
        {taskRuns.isError ? <ErrorMessage error={taskRuns.error} title="Could not load the task runs" /> : null}
        {subflows.isError ? <ErrorMessage error={subflows.error} title="Could not load the subflows" /> : null}
        <TimelineSection run={run} tasks={taskRuns.data} subflows={subflows.data} />
      </section>

      <div className="columns">
        <section aria-labelledby="parameters-title">
          <h2 id="parameters-title">Parameters</h2>
          <JsonView value={run.parameters} label="Parameters" />
        </section>
        <RunOutcome states={states.data ?? []} titleId="result-title" />
      </div>

      <section aria-labelledby="states-title">
        <h2 id="states-title">State history</h2>
        <QueryView query={states} what="the state history">
          {(history) => <StateHistory states={history} />}
        </QueryView>
      </section>

      <LogsPanel criteria={{ flow_run_id: { any_: [run.id] } }} queryKey={["logs", run.id]} taskNames={taskNames} />
    </>
  );
}

function TimelineSection({
  run,
  tasks,
  subflows,
}: {
  run: ApiFlowRun;
  tasks: ApiTaskRun[] | undefined;
  subflows: ApiFlowRun[] | undefined;
}) {
  if (!tasks || !subflows) return <p className="muted">Loading…</p>;
  // A subflow is also a task run of its parent (its parent_task_run_id): show it once, as the subflow.
  const subflowParents = new Set(subflows.map((subflow) => subflow.parent_task_run_id));
  const items: TimelineInput[] = [
    ...tasks
      .filter((task) => !subflowParents.has(task.id))
      .map(
        (task): TimelineInput => ({
          id: task.id,
          name: task.name,
          kind: "task",
          stateType: task.state_type,
          stateName: task.state_name,
          start: task.start_time,
          end: task.end_time,
          expected: task.expected_start_time ?? null,
        }),
      ),
    ...subflows.map(
      (subflow): TimelineInput => ({
        id: subflow.id,
        name: subflow.name,
        kind: "subflow",
        stateType: subflow.state_type,
        stateName: subflow.state_name,
        start: subflow.start_time,
        end: subflow.end_time,
        expected: subflow.expected_start_time,
      }),
    ),
  ];
  if (items.length === 0) {
    return (
      <Empty>
        <p>
          {isFinalState(run.state_type)
            ? "This run had no task runs."
            : "No task run yet: they appear here as they start."}
        </p>
      </Empty>
    );
  }
  return (
    <Timeline
      items={items}
      run={{ start: run.start_time, end: run.end_time }}
      running={run.state_type === "RUNNING" || run.state_type === "CANCELLING"}
    />
  );
}

function StateHistory({ states }: { states: ApiRunState[] }) {
  if (states.length === 0) return <p className="muted">No states recorded yet.</p>;
  return (
    <table className="simple">
      <thead>
        <tr>
          <th scope="col">State</th>
          <th scope="col">Time</th>
          <th scope="col">Message</th>
        </tr>
      </thead>
      <tbody>
        {states.map((state) => (
          <tr key={state.id}>
            <td>
              <StateBadge type={state.type} name={state.name} />
            </td>
            <td>{formatTime(state.timestamp)}</td>
            <td>{state.message ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RunActions({ run }: { run: ApiFlowRun }) {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ["flow-run", run.id] });
    void queryClient.invalidateQueries({ queryKey: ["flow-run-states", run.id] });
  };
  const cancel = useMutation({
    mutationFn: () => client.setFlowRunState(run.id, { type: "CANCELLING", message: "Cancelled from the UI" }),
    onSettled: refresh,
  });
  const retry = useMutation({
    mutationFn: () =>
      client.setFlowRunState(
        run.id,
        { type: "SCHEDULED", name: "AwaitingRetry", message: "Retried from the UI" },
        true,
      ),
    onSettled: refresh,
  });
  const final = isFinalState(run.state_type);
  const rejected = [cancel.data, retry.data].find((result) => result && result.status !== "ACCEPT");
  return (
    <span className="actions">
      {!final && run.state_type !== "CANCELLING" ? (
        <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
          {cancel.isPending ? "Cancelling…" : "Cancel"}
        </button>
      ) : null}
      {final && run.deployment_id ? (
        <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
          {retry.isPending ? "Retrying…" : "Retry"}
        </button>
      ) : null}
      {cancel.isError ? <ErrorMessage error={cancel.error} title="Could not cancel" /> : null}
      {retry.isError ? <ErrorMessage error={retry.error} title="Could not retry" /> : null}
      {rejected ? (
        <span role="alert" className="field-error">
          Refused: {String(rejected.details.reason ?? rejected.status)}
        </span>
      ) : null}
    </span>
  );
}
