/**
 * One run per output folder: `run-analysis` holds a lock file in `--out` while it works, so that a second
 * run into the same folder is refused instead of both overwriting each other's checkpoint and outputs.
 */
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RistrettoError } from '../errors/index.ts';

/** The lock file's name inside the output folder. */
export const OUT_LOCK_NAME = '.ristretto-lock.json';

/** What a lock file holds: who holds the folder, since when. */
export interface OutLockOwner {
  pid: number;
  host: string;
  /** ISO time the run started. */
  started: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid from the owner. */
  ticks?: number;
  command: string;
}

/** Another live run holds the output folder. */
export class OutputInUseError extends RistrettoError {}

/** A held output folder: `release()` removes the lock (idempotent, synchronous so it also works in `process.exit` paths). */
export interface OutLock {
  readonly path: string;
  release(): void;
}

/** Start time of process `pid` in clock ticks since boot (field 22 of /proc/PID/stat), where there is /proc. */
function startTicks(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner of a lock on this host still runs (a reused pid of another process does not count). */
function ownerAlive(owner: OutLockOwner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: the pid exists but belongs to another user — alive.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.ticks === undefined) return true;
  const now = startTicks(owner.pid);
  return now === undefined || now === owner.ticks;
}

function readOwner(path: string): OutLockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<OutLockOwner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? (o as OutLockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Create `path` holding `text` only if it does not exist. Written to a private file first and then
 * hard-linked into place (which fails if the name exists, like O_EXCL), so that a reader never sees a
 * half-written lock; where the file system has no hard links, an O_EXCL create.
 */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    try {
      writeFileSync(path, text, { flag: 'wx' });
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {}
  }
}

/**
 * Move a stale lock out of the way, unless another process replaced it meanwhile: it is renamed to a
 * private name (atomic) and put back if what was moved is not the stale lock judged.
 */
function takeOver(path: string, stale: OutLockOwner): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: the next attempt creates it
  }
  const moved = readOwner(aside);
  if (moved && (moved.pid !== stale.pid || moved.started !== stale.started || moved.host !== stale.host)) {
    try {
      linkSync(aside, path); // a live lock taken by mistake: back, unless yet another run holds the name now
    } catch {}
  }
  try {
    unlinkSync(aside);
  } catch {}
}

/**
 * Hold output folder `outDir` (made if missing) for this process, or throw {@link OutputInUseError}
 * naming the run that holds it. A lock left by a run that died (its pid gone on this host) is taken over,
 * with `onNote` saying so. `shownAs` is how the folder is named in messages (the user's --out).
 *
 * @example
 * ```ts
 * import { lockOutputFolder } from './out-lock.ts';
 * const lock = lockOutputFolder('out', 'out');
 * try { … } finally { lock.release(); }
 * ```
 */
export function lockOutputFolder(
  outDir: string,
  shownAs: string,
  onNote?: (message: string) => void,
  command = 'run-analysis',
): OutLock {
  // A run refused before it wrote anything leaves no folder behind: remember whether it was made here.
  const made = !existsSync(outDir);
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, OUT_LOCK_NAME);
  const host = hostname();
  const ticks = startTicks('self');
  const mine: OutLockOwner = {
    pid: process.pid,
    host,
    started: new Date().toISOString(),
    ...(ticks !== undefined ? { ticks } : {}),
    command,
  };
  const text = `${JSON.stringify(mine, null, 2)}\n`;
  // A few rounds: each lost race against a concurrent taker of a stale lock starts the look again.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(path, text)) {
      let held = true;
      return {
        path,
        release() {
          if (!held) return;
          held = false;
          // Only our own lock: a lock that someone judged stale and replaced is theirs now.
          const owner = readOwner(path);
          if (owner?.pid !== mine.pid || owner.started !== mine.started) return;
          try {
            unlinkSync(path);
            if (made) rmdirSync(outDir); // fails (kept) unless the run left the folder empty
          } catch {}
        },
      };
    }
    const owner = readOwner(path);
    if (owner === undefined) {
      // Unreadable: a lock being written on a file system without hard links, or damaged. Look again;
      // after the last round, refuse (deleting it is the user's call).
      if (round < 4) continue;
      throw new OutputInUseError(
        `${shownAs} is in use by another run (its lock file ${OUT_LOCK_NAME} cannot be read)`,
        { outDir, lock: path },
        `choose another --out, or delete ${path} if no run uses the folder`,
      );
    }
    if (owner.host !== host || ownerAlive(owner))
      throw new OutputInUseError(
        `${shownAs} is in use by ${owner.command ?? 'run-analysis'} pid ${owner.pid} on ${owner.host} (started ${owner.started})`,
        { outDir, pid: owner.pid, host: owner.host, started: owner.started },
        'choose another --out, or wait for it',
      );
    onNote?.(
      `${shownAs} was left locked by ${owner.command ?? 'run-analysis'} pid ${owner.pid} (started ${owner.started}), which is no longer running; taking it over`,
    );
    takeOver(path, owner);
  }
  throw new OutputInUseError(
    `${shownAs} is being taken by several runs at once`,
    { outDir, lock: path },
    'choose another --out, or wait for it',
  );
}
