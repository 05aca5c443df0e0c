/**
 * Notices of states that the API or the scheduler wrote to Postgres themselves (new runs, cancels,
 * Late): put on the run event stream so live views (GET /api/events) hear of them as they hear of
 * the workers' states. They go out in the background, batched per tick like every run event; a
 * lost notice only delays a view until its next refetch, never loses a state.
 */
import { randomUUID } from "node:crypto";
import type { RunKind, StateName, StateType } from "@sluice/core";
import type { Redis } from "ioredis";
import { redisKeys } from "./keys.js";
import { RedisEventSink } from "./redis-event-sink.js";

/** The current-state columns of a flow run or task run row. */
export interface RunStateRow {
  id: string;
  stateType: StateType | null;
  stateName: string | null;
  stateTimestamp: Date | null;
}

export class RunStateNotices {
  private readonly sink: RedisEventSink;

  constructor(redis: Redis, prefix: string) {
    // A notice that cannot be written is dropped: kept, notices would pile up through a Redis outage.
    this.sink = new RedisEventSink(redis, redisKeys(prefix).eventStream, false);
  }

  /** Announces the run's current state (as just written). */
  written(run: RunStateRow, runKind: RunKind = "flow_run"): void {
    if (!run.stateType || !run.stateName) return;
    this.sink.emit({
      kind: "state_written",
      id: randomUUID(),
      timestamp: (run.stateTimestamp ?? new Date()).toISOString(),
      runKind,
      runId: run.id,
      type: run.stateType,
      name: run.stateName as StateName,
    });
  }

  /** Waits for the notices emitted so far to be written or dropped (on shutdown). */
  async flush(): Promise<void> {
    await this.sink.flush();
  }
}
