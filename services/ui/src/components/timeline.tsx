/** The Gantt timeline of a flow run's task runs and subflows; it grows while the run executes. */
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { formatDuration, stateClass } from "../lib/format";
import { layoutTimeline, type TimelineInput, tickLabel } from "../lib/timeline";

export function Timeline({
  items,
  run,
  running,
}: {
  items: TimelineInput[];
  run: { start: string | null; end: string | null };
  running: boolean;
}) {
  const now = useNow(running);
  const layout = layoutTimeline(items, run, now);
  return (
    <figure className="timeline" aria-label="Task runs and subflows on a timeline">
      <div className="timeline-axis" aria-hidden="true">
        {layout.ticks.map((tick) => (
          <span key={tick.ms} style={{ left: `${tick.left}%` }}>
            {tickLabel(tick.ms)}
          </span>
        ))}
      </div>
      <ul className="timeline-rows">
        {layout.bars.map((bar) => (
          <li key={bar.id} className="timeline-row">
            <span className="timeline-label">
              <Link to={bar.kind === "task" ? `/task-runs/${bar.id}` : `/flow-runs/${bar.id}`}>{bar.name}</Link>
              {bar.kind === "subflow" ? <span className="muted"> (subflow)</span> : null}
            </span>
            <span className="timeline-track">
              <span
                className={`timeline-bar ${stateClass(bar.stateType)}${bar.open ? " open" : ""}`}
                style={{ left: `${bar.left}%`, width: `${bar.width}%` }}
                title={`${bar.name}: ${bar.stateName ?? "no state"}, ${formatDuration(bar.durationMs / 1000)}`}
              />
            </span>
            <span className="timeline-state">
              {bar.stateName ?? "—"} · {formatDuration(bar.durationMs / 1000)}
            </span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** The current time, ticking every second while `running` (drawing only: data comes from events). */
function useNow(running: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    setNow(Date.now());
    if (!running) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  return now;
}
