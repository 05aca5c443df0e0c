/**
 * Which worker holds a flow run, noted in Redis while the run goes on (removed when it ends). A
 * worker that takes a run whose note is still there knows the run crashed: the worker holding it
 * died, and BullMQ handed the job on. The note counts the run's crashes so far.
 */
import type { RedisKeys } from "@sluice/queue";
import type { Redis } from "ioredis";

/** What taking a run found. */
export interface TakenRun {
  /** Its cancellation was announced before any worker took it: it is not held, and must not run. */
  cancelled: boolean;
  /** The note a dead holder left (null: a first delivery), as text, to put back if the run is given back. */
  previous: string | null;
  /** The worker that held the run when it crashed (null: it did not crash). */
  crashedOn: string | null;
  /** How many times the run has crashed, this time included (0 on a first delivery). */
  crashes: number;
}

/** The note outlives any run (it is removed when the run ends). */
const HOLDER_TTL_SECONDS = 7 * 24 * 3600;

/**
 * In one round trip: whether the run was cancelled beforehand, the note a previous holder left,
 * and (unless cancelled) this worker's note, counting one crash more when there was one.
 * KEYS: cancelled marker, holder note. ARGV: worker name, TTL in seconds.
 * Returns { cancelled (0/1), crashes, previous note (absent when none) }.
 */
const TAKE = `
local previous = redis.call('GET', KEYS[2])
local crashes = 0
if previous then
  local ok, note = pcall(cjson.decode, previous)
  crashes = ((ok and type(note) == 'table' and tonumber(note.crashes)) or 0) + 1
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, crashes, previous} end
redis.call('SET', KEYS[2], cjson.encode({worker = ARGV[1], crashes = crashes}), 'EX', ARGV[2])
return {0, crashes, previous}`;

export class RunHolders {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly worker: string,
  ) {}

  /** Notes this worker as the run's holder (unless it was cancelled) and says what it found. */
  async take(flowRunId: string): Promise<TakenRun> {
    const [cancelled, crashes, previous = null] = (await this.redis.eval(
      TAKE,
      2,
      this.keys.cancelledMarker(flowRunId),
      this.keys.flowRunHolder(flowRunId),
      this.worker,
      HOLDER_TTL_SECONDS,
    )) as [number, number, string?];
    return { cancelled: cancelled === 1, previous, crashedOn: holderOf(previous), crashes: Number(crashes) };
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

/** The worker a note names ("unknown" when the note cannot be read); null without a note. */
function holderOf(note: string | null): string | null {
  if (note === null) return null;
  try {
    return String((JSON.parse(note) as { worker?: unknown }).worker ?? "unknown");
  } catch {
    return "unknown";
  }
}
