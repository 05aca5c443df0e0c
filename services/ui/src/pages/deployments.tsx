/** Deployments: each with its flow, schedule in words, work pool, paused or not. */
import { Link } from "react-router";
import { useDeployments, useFlowNames } from "../api/lookups";
import { Empty, QueryView } from "../components/feedback";
import { describeSchedule } from "../lib/schedule";

export function DeploymentsPage() {
  const deployments = useDeployments();
  const flowNames = useFlowNames();
  return (
    <>
      <h1>Deployments</h1>
      <QueryView query={deployments} what="deployments">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              <p>No deployments yet. Register the examples' deployments with:</p>
              <pre>npx sluice deploy examples/flows/deploy.ts</pre>
            </Empty>
          ) : (
            <table className="simple">
              <thead>
                <tr>
                  <th scope="col">Deployment</th>
                  <th scope="col">Flow</th>
                  <th scope="col">Schedule</th>
                  <th scope="col">Work pool</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {list.map((deployment) => (
                  <tr key={deployment.id}>
                    <td>
                      <Link to={`/deployments/${deployment.id}`}>{deployment.name}</Link>
                    </td>
                    <td>{flowNames.get(deployment.flow_id) ?? "…"}</td>
                    <td>
                      {deployment.schedules.length
                        ? deployment.schedules.map((schedule) => describeSchedule(schedule.schedule)).join("; ")
                        : "No schedule (runs on demand)"}
                    </td>
                    <td>{deployment.work_pool_name ?? "—"}</td>
                    <td>{deployment.paused ? "Paused" : "Active"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </>
  );
}
