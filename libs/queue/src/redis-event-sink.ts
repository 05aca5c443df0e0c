/**
 * EventSink on the Redis event stream. `emit` never waits: the events emitted until the event
 * loop turns (a whole `.map()` worth of state changes, often) go out as one stream entry, in one
 * round trip. While an entry is on its way, the next one waits for it and gathers everything
 * emitted meanwhile: under load (task runs finishing a few per tick) that is several ticks' worth
 * per XADD instead of one, and when idle nothing waits longer than a tick. Failed writes are
 * retried on `flush()`, so a short Redis outage delays events but does not lose them.
 */
import type { EventSink, RunEvent } from "@sluice/core";
import type { Redis } from "ioredis";
import { atEndOfTurn } from "./end-of-turn.js";
import { compareStreamIds, EVENT_FIELD, encodeEvents } from "./event-stream.js";

/** Events per stream entry at most: keeps entries, and the recorder's batches, bounded. */
const MAX_EVENTS_PER_ENTRY = 200;

export class RedisEventSink implements EventSink {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failed: string[] = [];
  private buffer: RunEvent[] = [];
  private scheduled = false;
  /** Stream id of the newest event written, to wait for the recorder to reach it. */
  lastId: string | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    /** False for events that may be lost (notices): a failed write is dropped, not kept for `flush()`. */
    private readonly keepFailed = true,
  ) {}

  emit(event: RunEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= MAX_EVENTS_PER_ENTRY) this.writeBuffer();
    else if (this.inFlight.size === 0) this.scheduleWrite();
    // Otherwise the write in flight schedules the next one when it is done.
  }

  private scheduleWrite(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    atEndOfTurn(() => this.writeBuffer());
  }

  private writeBuffer(): void {
    this.scheduled = false;
    if (this.buffer.length === 0) return;
    const events = this.buffer;
    this.buffer = [];
    this.write(encodeEvents(events));
  }

  private write(payload: string): void {
    const pending = this.redis
      .xadd(this.stream, "*", EVENT_FIELD, payload)
      .then((id) => {
        if (id && (this.lastId === null || compareStreamIds(id, this.lastId) > 0)) this.lastId = id;
      })
      .catch(() => {
        if (this.keepFailed) this.failed.push(payload);
      })
      .finally(() => {
        this.inFlight.delete(pending);
        if (this.inFlight.size === 0 && this.buffer.length > 0) this.scheduleWrite();
      });
    this.inFlight.add(pending);
  }

  async flush({ attempts = 20, retryDelayMs = 250 } = {}): Promise<void> {
    this.writeBuffer();
    for (let attempt = 0; ; attempt++) {
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
      if (this.failed.length === 0) return;
      if (attempt >= attempts) {
        throw new Error(`Could not write ${this.failed.length} run events to Redis stream '${this.stream}'`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
      for (const payload of this.failed.splice(0)) this.write(payload);
    }
  }
}
