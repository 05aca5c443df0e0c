/** In-process implementations of the engine's ports (embedded mode, tests, and `.submit()` inside one process). */
import type {
  AcquireOptions,
  CachedResult,
  CacheStore,
  Lease,
  LeaseStore,
  TaskDispatcher,
  TaskRunRequest,
} from "@sluice/core";
import { CancelledError, jsonCopy, Semaphore } from "@sluice/core";

/** Runs submitted task runs in this process, at most `concurrency` at once. */
export class InProcessTaskDispatcher implements TaskDispatcher {
  private readonly slots: Semaphore;

  constructor(readonly concurrency = 32) {
    this.slots = new Semaphore(concurrency);
  }

  private readonly detached = new Set<Promise<unknown>>();

  async dispatch<T>(request: TaskRunRequest, run: () => Promise<T>): Promise<T> {
    if (request.detached) {
      // Fire and forget: its outcome is in its states; drain() waits for it before shutdown.
      const running = this.slots.run(run).catch(() => {});
      this.detached.add(running);
      void running.finally(() => this.detached.delete(running));
      return undefined as T;
    }
    return this.slots.run(run);
  }

  async drain(): Promise<void> {
    while (this.detached.size > 0) await Promise.all(this.detached);
  }
}

/** Concurrency slots held in memory: exact within one process, nothing to expire. */
export class MemoryLeaseStore implements LeaseStore {
  private readonly holders = new Map<string, Set<string>>();
  private readonly starts = new Map<string, number[]>();

  async throttle(
    limitKey: string,
    max: number,
    windowMs: number,
    options: Omit<AcquireOptions, "ttlMs">,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError();
      const now = Date.now();
      const recent = (this.starts.get(limitKey) ?? []).filter((at) => at > now - windowMs);
      this.starts.set(limitKey, recent);
      if (recent.length < max) {
        recent.push(now);
        return;
      }
      if (attempt === 0) options.onWait?.();
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, (recent[0] as number) + windowMs - now)));
    }
  }
  private readonly waiters = new Map<string, (() => void)[]>();

  async acquire(limitKey: string, limit: number, holder: string, options: AcquireOptions): Promise<Lease> {
    const held = this.holders.get(limitKey) ?? new Set<string>();
    this.holders.set(limitKey, held);
    if (held.size >= limit) options.onWait?.();
    while (held.size >= limit) {
      if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError();
      await new Promise<void>((resolve, reject) => {
        const list = this.waiters.get(limitKey) ?? [];
        this.waiters.set(limitKey, list);
        const onAbort = () => reject(options.signal?.reason ?? new CancelledError());
        options.signal?.addEventListener("abort", onAbort, { once: true });
        list.push(() => {
          options.signal?.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    }
    held.add(holder);
    return {
      release: async () => {
        held.delete(holder);
        this.waiters.get(limitKey)?.shift()?.();
      },
    };
  }
}

/** Cache entries in memory (tests, or a process that does not need to share them). */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, CachedResult>();

  async get(cacheKey: string): Promise<CachedResult | null> {
    const entry = this.entries.get(cacheKey);
    if (!entry) return null;
    if (entry.expiresAt !== null && Date.parse(entry.expiresAt) <= Date.now()) return null;
    return entry;
  }

  async set(cacheKey: string, entry: CachedResult): Promise<void> {
    this.entries.set(cacheKey, jsonCopy(entry));
  }
}
