/** Flows: every flow with links to its runs and deployments. */
import { Link } from "react-router";
import { useDeployments, useFlows } from "../api/lookups";
import { Empty, QueryView } from "../components/feedback";
import { formatTime } from "../lib/format";

export function FlowsPage() {
  const flows = useFlows();
  const deployments = useDeployments();
  return (
    <>
      <h1>Flows</h1>
      <QueryView query={flows} what="flows">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              <p>No flows yet. A flow appears once it has run or been deployed:</p>
              <pre>npx sluice run examples/flows/etl_pipeline.ts</pre>
            </Empty>
          ) : (
            <table className="simple">
              <thead>
                <tr>
                  <th scope="col">Flow</th>
                  <th scope="col">Deployments</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((flow) => {
                  const own = (deployments.data ?? []).filter((deployment) => deployment.flow_id === flow.id);
                  return (
                    <tr key={flow.id}>
                      <td>
                        <Link to={`/flow-runs?flow=${flow.id}`}>{flow.name}</Link>
                      </td>
                      <td>
                        {own.length === 0
                          ? "—"
                          : own.map((deployment, index) => (
                              <span key={deployment.id}>
                                {index > 0 ? ", " : ""}
                                <Link to={`/deployments/${deployment.id}`}>{deployment.name}</Link>
                              </span>
                            ))}
                      </td>
                      <td>{formatTime(flow.created)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </QueryView>
    </>
  );
}
