/**
 * The embedded mode's task cache: entries live in the store's task_cache table, written like
 * everything else through a `cache_entry` event. Entries cached by this process are also kept in
 * memory, so a hit does not wait for the batch that writes them.
 */
import { type CachedResult, type CacheStore, type EventSink, jsonCopy } from "@sluice/core";

export class StoreCacheStore implements CacheStore {
  private readonly recent = new Map<string, CachedResult>();

  constructor(
    private readonly load: (cacheKey: string) => Promise<CachedResult | null>,
    private readonly events: EventSink,
  ) {}

  async get(cacheKey: string): Promise<CachedResult | null> {
    const entry = this.recent.get(cacheKey) ?? (await this.load(cacheKey));
    if (!entry) return null;
    if (entry.expiresAt !== null && Date.parse(entry.expiresAt) <= Date.now()) return null;
    return entry;
  }

  async set(cacheKey: string, cached: CachedResult): Promise<void> {
    const entry = jsonCopy(cached);
    this.recent.set(cacheKey, entry);
    this.events.emit({
      kind: "cache_entry",
      id: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      cacheKey,
      taskRunId: entry.taskRunId,
      expiresAt: entry.expiresAt,
      result: entry.result,
    });
  }
}
