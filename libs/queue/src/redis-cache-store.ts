/**
 * Task cache on Redis (fast, shared by every process), backed by a durable store (Postgres,
 * through the recorder) so cached results survive a Redis restart.
 */
import type { CachedResult, CacheStore } from "@sluice/core";
import type { Redis } from "ioredis";
import type { RedisKeys } from "./keys.js";

export interface DurableCache {
  /** Reads a persisted entry (null when missing or expired). */
  load(cacheKey: string): Promise<CachedResult | null>;
  /** Persists an entry (e.g. by emitting a cache_entry event for the recorder). */
  save(cacheKey: string, entry: CachedResult): void | Promise<void>;
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
    if (persisted) await this.writeRedis(cacheKey, persisted);
    return persisted;
  }

  async set(cacheKey: string, entry: CachedResult): Promise<void> {
    // Serialized once: the text goes to Redis, its parse (a copy the caller cannot change) to the durable store.
    const payload = JSON.stringify(entry);
    const saved = this.durable?.save(cacheKey, JSON.parse(payload) as CachedResult);
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
