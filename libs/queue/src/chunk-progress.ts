/**
 * Which task runs of a chunk job (see task-run-queue.ts) have finished, kept in Redis: a chunk
 * handed to another worker after its worker died runs only the rest, so no task body runs again
 * once its result was sent. A run is marked after its reply is sent (marked but unsent would leave
 * its flow waiting forever); marks made in the same tick go to Redis together.
 */
import type { Redis } from "ioredis";
import { atEndOfTurn } from "./end-of-turn.js";
import type { RedisKeys } from "./keys.js";

/** A chunk's marks outlive it by this much at most (a chunk whose worker died and was never picked again). */
const CHUNK_DONE_TTL_MS = 24 * 3600 * 1000;

export class ChunkProgress {
  private readonly batches = new Map<string, { taskRunIds: string[]; sent: Promise<void> }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Marks the task run of the chunk finished; resolves once Redis has the mark. */
  markDone(jobId: string, taskRunId: string): Promise<void> {
    let batch = this.batches.get(jobId);
    if (!batch) {
      const taskRunIds: string[] = [];
      const key = this.keys.chunkDone(jobId);
      const sent = new Promise<void>((resolve, reject) =>
        atEndOfTurn(() => {
          this.batches.delete(jobId);
          // Two plain commands (no MULTI needed: the TTL only cleans up), sent in the turn's write.
          Promise.all([this.redis.sadd(key, ...taskRunIds), this.redis.pexpire(key, CHUNK_DONE_TTL_MS)]).then(
            () => resolve(),
            reject,
          );
        }),
      );
      batch = { taskRunIds, sent };
      this.batches.set(jobId, batch);
    }
    batch.taskRunIds.push(taskRunId);
    return batch.sent;
  }

  /** The task runs of the chunk marked finished (by any worker that held it before). */
  async finished(jobId: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(this.keys.chunkDone(jobId)));
  }

  /** Drops the chunk's marks once the whole chunk is over. */
  async forget(jobId: string): Promise<void> {
    await this.redis.del(this.keys.chunkDone(jobId));
  }
}
