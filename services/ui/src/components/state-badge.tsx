/** A run's state as a coloured badge ("Completed", "Late", …). */
import { stateClass } from "../lib/format";

export function StateBadge({ type, name }: { type: string | null | undefined; name: string | null | undefined }) {
  return <span className={`state-badge ${stateClass(type)}`}>{name ?? type ?? "No state"}</span>;
}
