/**
 * Functions on disk, one ES module file per content hash. Workers import them by path, so each
 * function is compiled once per worker and stays warm across tasks.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
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

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Hashes already on disk (reported to the service so it does not resend their code). */
  hashes(): string[] {
    return readdirSync(this.dir)
      .filter((f) => /^[0-9a-f]{64}\.mjs$/.test(f))
      .map((f) => f.slice(0, 64));
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
    if (!existsSync(path)) {
      // Write then rename, so a worker never imports a half-written file.
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, path);
    }
    this.present.set(hash, path);
    return path;
  }
}
