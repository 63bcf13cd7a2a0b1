/**
 * An empty file (a copy that never got its bytes) is called empty, not "ends after 0 bytes but points to
 * byte 0": the real `ristretto ls` and `run-analysis` on a 0-byte .root file.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.ts';
import { repoRoot } from '../shared.ts';

const dir = tempDir('empty-file');
const EMPTY = join(dir, 'empty.root');
writeFileSync(EMPTY, '');

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', bin), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
  return { code: r.status, stderr: r.stderr };
}

describe('an empty ROOT file', () => {
  it('ristretto ls says the file is empty', () => {
    const r = run('ristretto.mjs', ['ls', 'empty.root']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'ristretto: empty.root is not a readable ROOT file: the file is empty (0 bytes) — check that it is a complete ROOT file',
    );
  });

  it('run-analysis names the file and its dataset, and says it is empty', () => {
    writeFileSync(join(dir, 'ds.json'), JSON.stringify({ A: ['empty.root'] }));
    const r = run('run-analysis.mjs', [
      'ds.json',
      join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'),
      '-q',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `cannot open ${EMPTY} (dataset A, default tree): ${EMPTY} is not a readable ROOT file: the file is empty (0 bytes)`,
    );
  });
});
