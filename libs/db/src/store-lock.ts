/**
 * An exclusive lock on a directory, held by one process at a time: a lock file created atomically
 * (written aside, then hard-linked into place, so it never exists half-written) that names its
 * holder. A holder that died (its pid is gone, or now belongs to another process) leaves a stale
 * lock, which the next process removes and takes, learning who held it before.
 */
import { randomUUID } from "node:crypto";
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export interface LockHolder {
  pid: number;
  hostname: string;
  /** The holder's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  startTicks: number | null;
  token: string;
  acquiredAt: string;
}

export interface DirectoryLock {
  path: string;
  holder: LockHolder;
  /** Who held the lock before us when that holder had died without releasing it (its runs were cut short). */
  staleHolder: LockHolder | null;
  /** Removes the lock file (only if it is still ours). Safe to call twice. */
  release(): void;
}

export interface AcquireLockOptions {
  /** Called once, when the lock is held by a live process and we start waiting. */
  onWaiting?: (holder: LockHolder | null) => void;
  pollMs?: number;
  /** Gives up (throws) after this long; default: wait forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockHolder | null,
  ) {
    super(
      `Timed out waiting for the lock ${path}${holder ? ` (held by pid ${holder.pid} on ${holder.hostname})` : ""}`,
    );
  }
}

/** Takes the lock file `fileName` in `dir` (created if missing), waiting while a live process holds it. */
export async function acquireDirectoryLock(
  dir: string,
  fileName: string,
  options: AcquireLockOptions = {},
): Promise<DirectoryLock> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    startTicks: processStartTicks(process.pid),
    token: randomUUID(),
    acquiredAt: new Date().toISOString(),
  };
  const started = Date.now();
  let staleHolder: LockHolder | null = null;
  let told = false;
  for (;;) {
    if (tryCreate(path, holder)) return lockHandle(path, holder, staleHolder);
    const current = readHolder(path);
    if (current && isStale(current)) {
      if (breakStaleLock(path, current)) staleHolder = current;
      else await sleep(10); // another process is removing it: take turns
      continue;
    }
    if (current === null) {
      const age = lockFileAgeMs(path);
      if (age === null) continue; // released meanwhile
      // Unreadable for a while: its creator died before writing it (only possible without hard links).
      if (age > UNREADABLE_LOCK_GRACE_MS) rmSync(path, { force: true });
    }
    if (!told) {
      told = true;
      options.onWaiting?.(current);
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      throw new LockTimeoutError(path, current);
    }
    options.signal?.throwIfAborted();
    await sleep(options.pollMs ?? 100);
  }
}

/** Who holds the lock file now, if anyone (null when missing or unreadable). */
export function readHolder(path: string): LockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    if (typeof parsed.pid !== "number" || typeof parsed.token !== "string") return null;
    return {
      pid: parsed.pid,
      hostname: String(parsed.hostname ?? ""),
      startTicks: typeof parsed.startTicks === "number" ? parsed.startTicks : null,
      token: parsed.token,
      acquiredAt: String(parsed.acquiredAt ?? ""),
    };
  } catch {
    return null;
  }
}

/** A holder on this machine whose process is gone (or whose pid now belongs to a newer process). */
export function isStale(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false; // another machine's process: we cannot tell
  if (!processExists(holder.pid)) return true;
  if (holder.startTicks === null) return false;
  const ticks = processStartTicks(holder.pid);
  return ticks !== null && ticks !== holder.startTicks;
}

function tryCreate(path: string, holder: LockHolder): boolean {
  const aside = `${path}.${holder.pid}.${holder.token.slice(0, 8)}`;
  writeFileSync(aside, `${JSON.stringify(holder)}\n`);
  try {
    linkSync(aside, path); // atomic: fails with EEXIST when the lock is held
    return true;
  } catch (error) {
    if (code(error) === "EEXIST") return false;
    if (code(error) === "EPERM" || code(error) === "ENOTSUP" || code(error) === "EOPNOTSUPP") {
      return tryCreateExclusive(path, holder); // a filesystem without hard links
    }
    throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

function tryCreateExclusive(path: string, holder: LockHolder): boolean {
  try {
    const fd = openSync(path, "wx");
    try {
      writeFileSync(fd, `${JSON.stringify(holder)}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if (code(error) === "EEXIST") return false;
    throw error;
  }
}

/**
 * Removes a stale lock file, unless someone else replaced it meanwhile. Removers take turns through
 * a second lock file, so one cannot delete the fresh lock another has just created in its place.
 */
function breakStaleLock(path: string, stale: LockHolder): boolean {
  const guardPath = `${path}.break`;
  const guard: LockHolder = {
    ...stale,
    pid: process.pid,
    startTicks: processStartTicks(process.pid),
    token: randomUUID(),
  };
  if (!tryCreateExclusive(guardPath, guard)) {
    const other = readHolder(guardPath);
    if (other === null || isStale(other)) rmSync(guardPath, { force: true });
    return false;
  }
  try {
    if (readHolder(path)?.token !== stale.token) return false;
    unlinkSync(path);
    return true;
  } finally {
    rmSync(guardPath, { force: true });
  }
}

function lockHandle(path: string, holder: LockHolder, staleHolder: LockHolder | null): DirectoryLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    if (readHolder(path)?.token === holder.token) rmSync(path, { force: true });
  };
  // A process that exits without closing (process.exit) still gives the lock back.
  process.on("exit", release);
  return { path, holder, staleHolder, release };
}

const UNREADABLE_LOCK_GRACE_MS = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function lockFileAgeMs(path: string): number | null {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return code(error) === "EPERM"; // alive, but not ours to signal
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot); null where there is no /proc. */
function processStartTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
