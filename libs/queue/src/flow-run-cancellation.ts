/**
 * The cancellation channel of flow runs: the API announces a run being cancelled on a Redis
 * pub/sub channel, and sets a short-lived marker for a worker that takes the run only afterwards
 * (a message sent before the worker listened for that run is otherwise lost). Workers subscribe
 * once per process and abort the runs they hold.
 */
import type { Redis } from "ioredis";
import { type ChannelSubscription, subscribeChannel } from "./channel-subscription.js";
import type { RedisKeys } from "./keys.js";

/** How long the "cancelled" marker of a run lives: long enough for any worker that took the job. */
export const CANCELLED_MARKER_TTL_SECONDS = 600;

export class FlowRunCancellation {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Announces that the run is being cancelled (marker first, so a worker never misses both). */
  async announce(flowRunId: string): Promise<void> {
    await this.redis.set(this.keys.cancelledMarker(flowRunId), "1", "EX", CANCELLED_MARKER_TTL_SECONDS);
    await this.redis.publish(this.keys.cancelChannel, flowRunId);
  }

  /** Forgets an earlier cancellation (the run is scheduled to run again). */
  async clear(flowRunId: string): Promise<void> {
    await this.redis.del(this.keys.cancelledMarker(flowRunId));
  }

  async isCancelled(flowRunId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.cancelledMarker(flowRunId))) === 1;
  }

  /** Calls `onCancel` with each run id announced from now on. Resolves once subscribed. */
  subscribe(
    onCancel: (flowRunId: string) => void,
    /** Called when the subscription reconnects: announcements made meanwhile were missed. */
    onReconnect?: () => void,
  ): Promise<ChannelSubscription> {
    return subscribeChannel(this.redis, this.keys.cancelChannel, onCancel, onReconnect);
  }
}
