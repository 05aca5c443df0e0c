/**
 * Which worker holds a flow run, noted in Redis while the run goes on (removed when it ends). A
 * worker that takes a run whose note is still there knows the run crashed: the worker holding it
 * died, and BullMQ handed the job on. The note counts the run's crashes so far.
 */
import type { RedisKeys } from "@sluice/queue";
import type { Redis } from "ioredis";

export interface RunHolder {
  worker: string;
  /** How many times the run crashed before this worker took it. */
  crashes: number;
}

/** What taking a run found. */
export interface TakenRun {
  /** Its cancellation was announced before any worker took it: it is not held, and must not run. */
  cancelled: boolean;
  /** The note a dead holder left (null: a first delivery), as text, to put back if the run is given back. */
  previous: string | null;
  /** That note read (a crash), or null. */
  crashedHolder: RunHolder | null;
}

/** The note outlives any run (it is removed when the run ends). */
const HOLDER_TTL_SECONDS = 7 * 24 * 3600;

/**
 * In one round trip: whether the run was cancelled beforehand, the note a previous holder left,
 * and (unless cancelled) this worker's note, counting one crash more when there was one.
 * KEYS: cancelled marker, holder note. ARGV: worker name, TTL in seconds.
 */
const TAKE = `
local previous = redis.call('GET', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, previous} end
local crashes = 0
if previous then
  local ok, note = pcall(cjson.decode, previous)
  crashes = ((ok and type(note) == 'table' and tonumber(note.crashes)) or 0) + 1
end
redis.call('SET', KEYS[2], cjson.encode({worker = ARGV[1], crashes = crashes}), 'EX', ARGV[2])
return {0, previous}`;

export class RunHolders {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly worker: string,
  ) {}

  /** Notes this worker as the run's holder (unless it was cancelled) and says what it found. */
  async take(flowRunId: string): Promise<TakenRun> {
    const [cancelled, previous] = (await this.redis.eval(
      TAKE,
      2,
      this.keys.cancelledMarker(flowRunId),
      this.keys.flowRunHolder(flowRunId),
      this.worker,
      HOLDER_TTL_SECONDS,
    )) as [number, string | null | undefined];
    return { cancelled: cancelled === 1, previous: previous ?? null, crashedHolder: parseHolder(previous ?? null) };
  }

  /** The run is given back without running (it waits for a slot): its note is as it was before `take`. */
  async giveBack(flowRunId: string, previous: string | null): Promise<void> {
    const key = this.keys.flowRunHolder(flowRunId);
    if (previous === null) await this.redis.del(key);
    else await this.redis.set(key, previous, "EX", HOLDER_TTL_SECONDS);
  }

  /** The run ended here (or will never run): no holder any more. */
  async release(flowRunId: string): Promise<void> {
    await this.redis.del(this.keys.flowRunHolder(flowRunId));
  }
}

function parseHolder(value: string | null): RunHolder | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as Partial<RunHolder>;
    return { worker: String(parsed.worker ?? "unknown"), crashes: Number(parsed.crashes ?? 0) };
  } catch {
    return { worker: "unknown", crashes: 0 };
  }
}
