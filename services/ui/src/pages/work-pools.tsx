/** Work pools: each pool's workers (last heartbeat, status), queue depth, concurrency and queue limits. */
import type { ApiWorkPoolHealth } from "@sluice/client";
import { useQuery } from "@tanstack/react-query";
import { useLiveInvalidation } from "../api/live-events";
import { useSession } from "../api/session";
import { Empty, QueryView } from "../components/feedback";
import { LiveIndicator } from "../components/layout";
import { formatRelative } from "../lib/format";

export function WorkPoolsPage() {
  const { client } = useSession();
  const live = useLiveInvalidation(undefined, [["work-pools"]]);
  const pools = useQuery({
    queryKey: ["work-pools"],
    queryFn: async () => {
      const list = await client.filterWorkPools({});
      return Promise.all(list.map((pool) => client.readWorkPoolHealth(pool.name)));
    },
  });
  return (
    <>
      <div className="page-title">
        <h1>Work pools</h1>
        <LiveIndicator status={live} />
      </div>
      <QueryView query={pools} what="work pools">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              <p>No work pools yet. Start a worker (it creates its pool), or create one:</p>
              <pre>
                npx sluice worker start --pool default-agent-pool --flows examples/flows{"\n"}npx sluice work-pool
                create my-pool
              </pre>
            </Empty>
          ) : (
            list.map((pool) => <PoolCard key={pool.name} pool={pool} />)
          )
        }
      </QueryView>
    </>
  );
}

function PoolCard({ pool }: { pool: ApiWorkPoolHealth }) {
  const titleId = `pool-${pool.name.replace(/\W+/g, "-")}`;
  return (
    <section className="card" aria-labelledby={titleId}>
      <h2 id={titleId}>
        {pool.name} <span className="muted">({pool.is_paused ? "paused" : pool.status.toLowerCase()})</span>
      </h2>
      <dl className="facts">
        <div>
          <dt>Workers online</dt>
          <dd>{pool.workers_online}</dd>
        </div>
        <div>
          <dt>Concurrency</dt>
          <dd>
            {pool.concurrency_in_use} running / {pool.concurrency_limit ?? "no limit"}
          </dd>
        </div>
        <div>
          <dt>Flow runs queued</dt>
          <dd>
            {pool.flow_runs.waiting} waiting, {pool.flow_runs.delayed} scheduled, {pool.flow_runs.failed} failed
          </dd>
        </div>
        <div>
          <dt>Task runs queued</dt>
          <dd>
            {pool.task_runs.waiting} waiting, {pool.task_runs.running} running
          </dd>
        </div>
      </dl>
      <h3>Workers</h3>
      {pool.workers.length === 0 ? (
        <p className="muted">
          No worker. Start one: <code>npx sluice worker start --pool {pool.name}</code>
        </p>
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th scope="col">Worker</th>
              <th scope="col">Status</th>
              <th scope="col">Last heartbeat</th>
            </tr>
          </thead>
          <tbody>
            {pool.workers.map((worker) => (
              <tr key={worker.id}>
                <td>{worker.name}</td>
                <td>{worker.status}</td>
                <td>{formatRelative(worker.last_heartbeat_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Work queues with a limit</h3>
      {pool.work_queues.length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table className="simple">
          <thead>
            <tr>
              <th scope="col">Queue</th>
              <th scope="col">In use / limit</th>
            </tr>
          </thead>
          <tbody>
            {pool.work_queues.map((queue) => (
              <tr key={queue.name}>
                <td>{queue.name}</td>
                <td>
                  {queue.concurrency_in_use} / {queue.concurrency_limit}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
