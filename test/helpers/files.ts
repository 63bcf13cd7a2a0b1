/** Scratch files for tests: a temp directory removed after the suite, and edited (truncated, corrupted) copies of real files. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A fresh directory under the OS temp dir, removed after the enclosing suite (the file, or the
 * `describe` it is called in). Call it at collection time, not inside a test.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ristretto-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write to `dest` the bytes of `src` passed through `edit` (which may change them in place); returns `dest`. */
export function editedCopy(src: string, dest: string, edit: (bytes: Buffer) => Uint8Array): string {
  writeFileSync(dest, edit(readFileSync(src)));
  return dest;
}
