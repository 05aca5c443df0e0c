/** One active scheduler at a time: a Redis lock with a lease, renewed while held, taken over when it lapses. */
import type { Redis } from "ioredis";

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export class LeaderLock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Takes the lock if free, or renews it if we hold it; true when we are the leader. */
  async acquireOrRenew(): Promise<boolean> {
    const renewed = Number(await this.redis.eval(RENEW, 1, this.key, this.holder, this.ttlMs));
    if (renewed === 1) return true;
    return (await this.redis.set(this.key, this.holder, "PX", this.ttlMs, "NX")) === "OK";
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.holder);
  }
}
