/** Tag concurrency limits: create, delete, and the slots in use with the task runs holding them. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { useSession } from "../api/session";
import { Empty, ErrorMessage, QueryView } from "../components/feedback";

export function ConcurrencyLimitsPage() {
  const { client } = useSession();
  const queryClient = useQueryClient();
  const limits = useQuery({ queryKey: ["concurrency-limits"], queryFn: () => client.filterConcurrencyLimits({}) });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["concurrency-limits"] });
  const remove = useMutation({ mutationFn: (tag: string) => client.deleteConcurrencyLimit(tag), onSettled: refresh });

  return (
    <>
      <h1>Concurrency limits</h1>
      <CreateLimit onCreated={refresh} />
      {remove.isError ? <ErrorMessage error={remove.error} title="Could not delete the limit" /> : null}
      <QueryView query={limits} what="concurrency limits">
        {(list) =>
          list.length === 0 ? (
            <Empty>
              <p>
                No tag limits. Create one above, or with <code>npx sluice concurrency-limit create TAG N</code>: at most
                N task runs tagged TAG run at once, across every worker.
              </p>
            </Empty>
          ) : (
            <table className="simple">
              <thead>
                <tr>
                  <th scope="col">Tag</th>
                  <th scope="col">Slots in use</th>
                  <th scope="col">Held by</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((limit) => (
                  <tr key={limit.id}>
                    <td>{limit.tag}</td>
                    <td>
                      {limit.active_slots.length} / {limit.concurrency_limit}
                    </td>
                    <td>
                      {limit.active_slots.length === 0
                        ? "—"
                        : limit.active_slots.map((holder, index) => (
                            <span key={holder}>
                              {index > 0 ? ", " : ""}
                              <Link to={`/task-runs/${holder}`}>{holder.slice(0, 8)}</Link>
                            </span>
                          ))}
                    </td>
                    <td>
                      <button
                        type="button"
                        className="danger"
                        aria-label={`Delete the limit of tag ${limit.tag}`}
                        onClick={() => remove.mutate(limit.tag)}
                      >
                        Delete
                      </button>
                    </td>
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

function CreateLimit({ onCreated }: { onCreated: () => void }) {
  const { client } = useSession();
  const [tag, setTag] = useState("");
  const [limit, setLimit] = useState("1");
  const create = useMutation({
    mutationFn: () => client.createConcurrencyLimit(tag.trim(), Number(limit)),
    onSuccess: () => {
      setTag("");
      onCreated();
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Create a concurrency limit">
      <label>
        Tag
        <input value={tag} onChange={(event) => setTag(event.target.value)} required />
      </label>
      <label>
        Limit
        <input
          type="number"
          min={0}
          step={1}
          value={limit}
          onChange={(event) => setLimit(event.target.value)}
          required
        />
      </label>
      <button type="submit" disabled={create.isPending || tag.trim() === ""}>
        Create limit
      </button>
      {create.isError ? <ErrorMessage error={create.error} title="Could not create the limit" /> : null}
    </form>
  );
}
