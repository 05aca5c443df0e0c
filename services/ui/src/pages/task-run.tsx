/** A task run: its states and attempts, cache key, inputs, result (or error), and its logs, live. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { useLiveInvalidation } from "../api/live-events";
import { useSession } from "../api/session";
import { QueryView } from "../components/feedback";
import { JsonView } from "../components/json-view";
import { LiveIndicator } from "../components/layout";
import { LogsPanel } from "../components/logs-panel";
import { RunOutcome } from "../components/run-outcome";
import { StateBadge } from "../components/state-badge";
import { formatDuration, formatTime } from "../lib/format";

export function TaskRunPage() {
  const id = useParams().id ?? "";
  const { client } = useSession();
  const task = useQuery({ queryKey: ["task-run", id], queryFn: () => client.readTaskRun(id) });
  const states = useQuery({ queryKey: ["task-run-states", id], queryFn: () => client.readTaskRunStates(id) });
  const live = useLiveInvalidation(task.data?.flow_run_id ?? undefined, [
    ["task-run", id],
    ["task-run-states", id],
    ["task-logs", id],
  ]);
  return (
    <QueryView query={task} what="the task run">
      {(run) => {
        return (
          <>
            <div className="page-title">
              <h1>{run.name}</h1>
              <StateBadge type={run.state_type} name={run.state_name} />
              <LiveIndicator status={live} />
            </div>
            <dl className="facts">
              <div>
                <dt>Flow run</dt>
                <dd>{run.flow_run_id ? <Link to={`/flow-runs/${run.flow_run_id}`}>open the flow run</Link> : "—"}</dd>
              </div>
              <div>
                <dt>Task</dt>
                <dd>
                  <code>{run.task_key}</code>
                </dd>
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
                <dt>Cache key</dt>
                <dd>
                  {run.cache_key ? <code>{run.cache_key}</code> : "—"}
                  {run.cache_expiration ? ` (expires ${formatTime(run.cache_expiration)})` : ""}
                </dd>
              </div>
              <div>
                <dt>Tags</dt>
                <dd>{run.tags?.length ? run.tags.join(", ") : "—"}</dd>
              </div>
            </dl>
            <div className="columns">
              <section aria-labelledby="inputs-title">
                <h2 id="inputs-title">Inputs</h2>
                <JsonView value={run.task_inputs ?? {}} label="Inputs" />
              </section>
              <RunOutcome states={states.data ?? []} titleId="task-result-title" />
            </div>
            <section aria-labelledby="task-states-title">
              <h2 id="task-states-title">States and attempts</h2>
              <QueryView query={states} what="the states">
                {(list) => (
                  <table className="simple">
                    <thead>
                      <tr>
                        <th scope="col">State</th>
                        <th scope="col">Attempt</th>
                        <th scope="col">Time</th>
                        <th scope="col">Message</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map((state) => (
                        <tr key={state.id}>
                          <td>
                            <StateBadge type={state.type} name={state.name} />
                          </td>
                          <td>{state.state_details.run_count ?? "—"}</td>
                          <td>{formatTime(state.timestamp)}</td>
                          <td>{state.message ?? ""}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </QueryView>
            </section>
            <LogsPanel criteria={{ task_run_id: { any_: [run.id] } }} queryKey={["task-logs", run.id]} />
          </>
        );
      }}
    </QueryView>
  );
}
