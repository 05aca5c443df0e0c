/** A run's outcome, read from its state history: the result, else the error, else "No result yet.". */
import type { ApiRunState } from "@sluice/client";
import { JsonView } from "./json-view";

/**
 * A Completed state wins over a Failed or Crashed one whatever their order (a run that failed, then
 * completed on retry, shows its result); of each, the newest counts. `titleId`: the heading's id,
 * which labels the section (one per page).
 */
export function RunOutcome({ states, titleId }: { states: readonly ApiRunState[]; titleId: string }) {
  const newestFirst = [...states].reverse();
  const result = newestFirst.find((state) => state.type === "COMPLETED");
  const failure = newestFirst.find((state) => state.type === "FAILED" || state.type === "CRASHED");
  return (
    <section aria-labelledby={titleId}>
      <h2 id={titleId}>{failure && !result ? "Error" : "Result"}</h2>
      {result ? (
        <JsonView value={result.data} label="Result" />
      ) : failure ? (
        <JsonView value={failure.data ?? failure.message} label="Error" />
      ) : (
        <p className="muted">No result yet.</p>
      )}
    </section>
  );
}
