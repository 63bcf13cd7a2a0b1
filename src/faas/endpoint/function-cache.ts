/**
 * Functions on disk, one ES module file per content hash. Workers import them by path, so each
 * function is compiled once per worker and stays warm across tasks.
 *
 * Tasks run under the endpoint's account and can rewrite these files (issue 14, probe D3): workers
 * import only bytes that match the hash (verified-load.ts), the agent reports to the service only
 * files that match (so a restarted agent fetches a rewritten one again), and {@link FunctionCache.repair}
 * puts back a file a worker found changed.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type BigIntStats,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FaasError } from '../errors.ts';

/** Default cache folder: `$XDG_CACHE_HOME/ristretto/faas-functions`, else `~/.cache/...`. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ristretto', 'faas-functions');
}

export class FunctionCache {
  /** Hashes known to be on disk, so the per-task check costs no system call. */
  private readonly present = new Map<string, string>();
  /** Code stored by this process, by hash: the service does not send it again while connected. */
  private readonly codes = new Map<string, string>();
  /**
   * The file's identity when its bytes last matched its hash (inode, size, change time in ns): a file
   * with the same identity was not written since, so a reconnect's hello need not read it again. Any
   * write, rename over it or `utimes` changes the change time, which a task cannot set back. (Workers
   * check the bytes they import anyway: this list only decides what the service resends.)
   */
  private readonly checked = new Map<string, string>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Every hash on disk whose file matches it (see {@link recent}). */
  hashes(): string[] {
    return this.recent(Number.POSITIVE_INFINITY);
  }

  /**
   * At most `max` hashes on disk, the most recently stored first: what an agent's hello reports, so
   * the service does not resend their code. Only the files reported are checked: one whose content no
   * longer matches its name is deleted instead (and so fetched again), and one unchanged since this
   * process last checked it is not read again.
   */
  recent(max: number): string[] {
    const files: { hash: string; stat: BigIntStats }[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}\.mjs$/.test(f)) continue;
      const stat = statSync(join(this.dir, f), { bigint: true, throwIfNoEntry: false });
      if (stat) files.push({ hash: f.slice(0, 64), stat });
    }
    if (files.length > max) files.sort((a, b) => (a.stat.mtimeNs < b.stat.mtimeNs ? 1 : -1));
    const ok: string[] = [];
    for (const { hash, stat } of files) {
      if (ok.length >= max) break;
      const id = `${stat.ino}:${stat.size}:${stat.ctimeNs}`;
      if (this.checked.get(hash) === id || this.matches(hash)) {
        this.checked.set(hash, id);
        ok.push(hash);
      } else this.drop(hash);
    }
    return ok;
  }

  /**
   * A worker found the file of `hash` changed: write it again from the code this process stored, or
   * else delete it (the service sends it again after the next attach). Returns what was done.
   */
  repair(hash: string): 'intact' | 'rewritten' | 'deleted' {
    if (this.matches(hash)) return 'intact';
    const code = this.codes.get(hash);
    if (code === undefined) {
      this.drop(hash);
      return 'deleted';
    }
    this.write(this.path(hash), code);
    return 'rewritten';
  }

  /** The file of `hash` exists and its sha256 is `hash`. */
  private matches(hash: string): boolean {
    try {
      return (
        createHash('sha256')
          .update(readFileSync(this.path(hash)))
          .digest('hex') === hash
      );
    } catch {
      return false;
    }
  }

  private drop(hash: string): void {
    this.present.delete(hash);
    this.checked.delete(hash);
    rmSync(this.path(hash), { force: true });
  }

  private write(path: string, code: string): void {
    // Write then rename, so a worker never imports a half-written file.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, path);
  }

  has(hash: string): boolean {
    if (this.present.has(hash)) return true;
    const path = this.path(hash);
    if (!existsSync(path)) return false;
    this.present.set(hash, path);
    return true;
  }

  path(hash: string): string {
    const known = this.present.get(hash);
    if (known !== undefined) return known;
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new FaasError(`invalid function hash "${hash}"`, { hash });
    return join(this.dir, `${hash}.mjs`);
  }

  /** Store code under its hash; refuses code whose sha256 does not match. */
  put(hash: string, code: string): string {
    const actual = createHash('sha256').update(code).digest('hex');
    if (actual !== hash)
      throw new FaasError(`function code does not match its hash (expected ${hash}, got ${actual})`, { hash });
    const path = this.path(hash);
    if (!existsSync(path) || !this.matches(hash)) this.write(path, code);
    this.present.set(hash, path);
    this.codes.set(hash, code);
    return path;
  }
}
