/**
 * Task cache on Redis (fast, shared by every process), backed by a durable store (Postgres,
 * through the recorder) so cached results survive a Redis restart.
 *
 * An entry bigger than `MAX_REDIS_CACHE_ENTRY_CHARS` (an ETL step's whole batch, say) is kept by
 * the durable store alone, written straight to it: in Redis it would hold megabytes of memory per
 * key until it expires, and on its way to Postgres it would cross the event stream and the
 * recorder, parsed and serialized again, for a value that is read back only on a hit.
 */
import { type CachedResult, type CacheStore, jsonLengthWithin } from "@sluice/core";
import type { Redis } from "ioredis";
import type { RedisKeys } from "./keys.js";

/** Entries up to this size (JSON characters) live in Redis as well as in the durable store. */
export const MAX_REDIS_CACHE_ENTRY_CHARS = 64 * 1024;

export interface DurableCache {
  /** Reads a persisted entry (null when missing or expired). */
  load(cacheKey: string): Promise<CachedResult | null>;
  /** Persists a small entry, off the caller's path (e.g. by emitting a cache_entry event for the recorder). */
  save(cacheKey: string, entry: CachedResult): void | Promise<void>;
  /** Persists an entry too big for Redis, its result given as JSON text, before resolving. */
  saveLarge(cacheKey: string, entry: CachedResult, resultJson: string): Promise<void>;
}

export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly durable?: DurableCache,
  ) {}

  async get(cacheKey: string): Promise<CachedResult | null> {
    const raw = await this.redis.get(this.keys.cacheEntry(cacheKey));
    if (raw !== null) return JSON.parse(raw) as CachedResult;
    const persisted = (await this.durable?.load(cacheKey)) ?? null;
    if (persisted && jsonLengthWithin(persisted, MAX_REDIS_CACHE_ENTRY_CHARS) !== null) {
      await this.writeRedis(cacheKey, persisted);
    }
    return persisted;
  }

  async set(cacheKey: string, entry: CachedResult): Promise<void> {
    // The result is serialized once: its text goes to the durable store as it is when big, or
    // into the entry's text for Redis, whose parse (a copy the caller cannot change) goes to the
    // durable store. Undefined (a task returning nothing) has no text: the entry has no result.
    const resultJson: string | undefined = JSON.stringify(entry.result);
    if (this.durable && resultJson !== undefined && resultJson.length > MAX_REDIS_CACHE_ENTRY_CHARS) {
      // Removed from Redis so that an older, smaller entry under the key does not answer for it.
      await Promise.all([
        this.durable.saveLarge(cacheKey, entry, resultJson),
        this.redis.del(this.keys.cacheEntry(cacheKey)),
      ]);
      return;
    }
    const result = resultJson === undefined ? "" : `,"result":${resultJson}`;
    const payload = `{"taskRunId":${JSON.stringify(entry.taskRunId)},"expiresAt":${JSON.stringify(entry.expiresAt)}${result}}`;
    if (!this.durable) return this.writeRedis(cacheKey, entry, payload);
    const saved = this.durable.save(cacheKey, JSON.parse(payload) as CachedResult);
    await Promise.all([this.writeRedis(cacheKey, entry, payload), saved]);
  }

  private async writeRedis(cacheKey: string, entry: CachedResult, payload = JSON.stringify(entry)): Promise<void> {
    const key = this.keys.cacheEntry(cacheKey);
    if (entry.expiresAt === null) {
      await this.redis.set(key, payload);
      return;
    }
    const ttlMs = Date.parse(entry.expiresAt) - Date.now();
    if (ttlMs > 0) await this.redis.set(key, payload, "PX", ttlMs);
  }
}
