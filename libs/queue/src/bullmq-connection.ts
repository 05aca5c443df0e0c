/**
 * The Redis connection a BullMQ Queue or Worker gets: a duplicate of the process's connection,
 * without auto-pipelining. BullMQ defines about 40 Lua scripts on its connection, and ioredis
 * copies every defined script onto each pipeline it builds; with auto-pipelining that is every
 * command batch, which cost a W2 worker about 5% of its CPU. BullMQ sends its commands as scripts
 * and transactions already and does not need it; the process's own connection keeps it (event
 * batches, replies) and never gets BullMQ's scripts.
 */
import { Queue, type QueueOptions } from "bullmq";
import type { Redis, RedisOptions } from "ioredis";

export function bullmqConnection(redis: Redis, options: RedisOptions = {}): Redis {
  return redis.duplicate({ ...options, enableAutoPipelining: false });
}

/**
 * BullMQ queues opened by name when first needed, all on one `bullmqConnection` of their own
 * (made with the first queue), and closed together.
 */
export class QueuesByName {
  private readonly queues = new Map<string, Queue>();
  private connection: Redis | null = null;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    private readonly options: Partial<QueueOptions> = {},
  ) {}

  get<T>(name: string): Queue<T> {
    let queue = this.queues.get(name);
    if (!queue) {
      this.connection ??= bullmqConnection(this.redis);
      queue = new Queue(name, { ...this.options, connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue as unknown as Queue<T>;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
    // BullMQ never closes a connection it is given.
    this.connection?.disconnect();
    this.connection = null;
  }
}
