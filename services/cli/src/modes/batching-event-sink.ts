/**
 * The embedded mode's event sink: events are buffered in memory and handed to a writer (the batch
 * writer on the embedded database) a batch at a time, after a short delay or as soon as a batch is
 * full, one write at a time. `flush()` resolves once every event emitted before it is committed.
 */
import type { EventSink, RunEvent } from "@sluice/core";

export interface BatchingEventSinkOptions {
  /** Writes one batch durably (in one transaction). */
  write(events: RunEvent[]): Promise<void>;
  /** Tells whether an error means the batch itself is bad (retrying cannot help). */
  isDataError?(error: unknown): boolean;
  /** Reports events that could not be written even one by one (they are dropped). */
  onDropped?(events: RunEvent[], error: unknown): void;
  /** Most events per write (default 1000). */
  maxBatchSize?: number;
  /** How long an event may wait for companions before it is written (default 25 ms). */
  maxDelayMs?: number;
}

export class BatchingEventSink implements EventSink {
  private buffer: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The chain of writes, one after the other. */
  private writing: Promise<void> = Promise.resolve();
  /** The first write failure not yet reported by flush(). */
  private failure: unknown;
  private readonly maxBatchSize: number;
  private readonly maxDelayMs: number;

  constructor(private readonly options: BatchingEventSinkOptions) {
    this.maxBatchSize = options.maxBatchSize ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 25;
  }

  emit(event: RunEvent): void {
    this.buffer.push(event);
    if (this.buffer.length >= this.maxBatchSize) this.startWrite();
    else this.timer ??= setTimeout(() => this.startWrite(), this.maxDelayMs);
  }

  async flush(): Promise<void> {
    this.startWrite();
    await this.writing;
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
  }

  /** Events emitted and not yet committed. */
  get pending(): number {
    return this.buffer.length;
  }

  private startWrite(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.writing = this.writing.then(() => this.writeBatch(batch));
  }

  private async writeBatch(batch: RunEvent[]): Promise<void> {
    try {
      await this.options.write(batch);
    } catch (error) {
      if (!this.options.isDataError?.(error)) {
        this.failure ??= error;
        return;
      }
      // One bad event must not lose the others: write them one at a time, dropping only the bad ones.
      for (const event of batch) {
        try {
          await this.options.write([event]);
        } catch (eventError) {
          if (this.options.isDataError(eventError)) this.options.onDropped?.([event], eventError);
          else this.failure ??= eventError;
        }
      }
    }
  }
}
