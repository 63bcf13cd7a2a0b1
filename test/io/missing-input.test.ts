/**
 * A missing input file on the commands that take a file (ls, convert, draw): the hint is about the path
 * given, with no word of a dataset JSON (none is involved); run-analysis, whose files come from a dataset
 * JSON, says relative paths start at the JSON's folder.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.ts';
import { repoRoot } from '../shared.ts';

const dir = tempDir('missing-input');

function run(bin: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', bin), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
  return { code: r.status, stderr: r.stderr.trim() };
}

describe('a missing input file', () => {
  it('convert, ls and draw say to check the path, and nothing of a dataset JSON', () => {
    for (const args of [
      ['convert', 'nope.root', 'x.parquet'],
      ['ls', 'nope.root'],
      ['draw', 'nope.root', 'MET_pt'],
    ]) {
      const r = run('ristretto.mjs', args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe('ristretto: cannot open ROOT file nope.root: file not found — check the path');
    }
    const pq = run('ristretto.mjs', ['convert', 'nope.parquet', 'x.root']);
    expect(pq.code).toBe(1);
    expect(pq.stderr).toBe('ristretto: nope.parquet: file not found — check the path');
  });

  it('run-analysis: the file of a dataset JSON is looked for relative to the JSON', () => {
    writeFileSync(join(dir, 'ds.json'), JSON.stringify({ A: ['nope.root'] }));
    const r = run('run-analysis.mjs', [
      'ds.json',
      join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'),
      '-q',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `cannot open ${join(dir, 'nope.root')} (dataset A, default tree): file not found — check the path (in a dataset JSON, relative paths start at the JSON file’s folder), or pass --skipbadfiles`,
    );
  });
});
