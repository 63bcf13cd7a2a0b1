/**
 * What an agent's hello reports from its function cache (src/faas/endpoint/function-cache.ts): only
 * files whose bytes match their names, at most the bound asked for, the most recently stored first.
 * A file a task rewrote after the cache checked it is caught at the next hello, also when the rewrite
 * keeps its size, and also with the file's modification time set back. Real files in a temporary folder.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FunctionCache } from '../../src/faas/endpoint/function-cache.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cacheWith(n: number): { cache: FunctionCache; hashes: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ristretto-cache-hello-'));
  dirs.push(dir);
  const cache = new FunctionCache(dir);
  const hashes: string[] = [];
  for (let i = 0; i < n; i++) {
    const code = `export default () => ${1000 + i};\n`;
    const hash = createHash('sha256').update(code).digest('hex');
    writeFileSync(join(dir, `${hash}.mjs`), code);
    // Stored one second apart, the last newest.
    const t = new Date(Date.UTC(2026, 0, 1, 0, 0, i));
    utimesSync(join(dir, `${hash}.mjs`), t, t);
    hashes.push(hash);
  }
  return { cache, hashes };
}

describe('function cache: what a hello reports', () => {
  it('reports every matching file, drops one whose bytes changed, and catches a same-size rewrite later', () => {
    const { cache, hashes } = cacheWith(5);
    expect(new Set(cache.recent(10))).toEqual(new Set(hashes));
    // A task rewrites one file with other code of the same length and sets its mtime back.
    const victim = join(cache.dir, `${hashes[2]}.mjs`);
    const before = statSync(victim);
    writeFileSync(victim, 'export default () => 6666;\n');
    expect(statSync(victim).size).toBe(before.size);
    utimesSync(victim, before.atime, before.mtime);
    const again = cache.recent(10);
    expect(again).not.toContain(hashes[2]);
    expect(again).toHaveLength(4);
    // Deleted, so the service sends the code again.
    expect(readdirSync(cache.dir)).not.toContain(`${hashes[2]}.mjs`);
    // The others are still reported at the next hello.
    expect(new Set(cache.recent(10))).toEqual(new Set(hashes.filter((_, i) => i !== 2)));
  });

  it('reports at most the bound, the most recently stored first, skipping a changed one', () => {
    const { cache, hashes } = cacheWith(6);
    expect(cache.recent(3)).toEqual([hashes[5], hashes[4], hashes[3]]);
    writeFileSync(join(cache.dir, `${hashes[4]}.mjs`), 'export default () => 1;\n');
    utimesSync(join(cache.dir, `${hashes[4]}.mjs`), new Date(Date.UTC(2026, 0, 2)), new Date(Date.UTC(2026, 0, 2)));
    // The changed file is the newest now: dropped, and the next older one fills its place.
    expect(cache.recent(3)).toEqual([hashes[5], hashes[3], hashes[2]]);
  });
});
