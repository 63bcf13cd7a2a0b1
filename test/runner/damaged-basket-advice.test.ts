/**
 * A damaged basket reads the same whichever executor read it: the reader's advice joined with
 * --skipbadfiles, once. (A thread pool used to lose the reader's advice on the way back from its
 * worker and print another.) Real run-analysis processes on a copy of a real file with one byte flipped
 * inside MET_pt's only basket (which starts at byte 2,000,167 of Run2012B_SingleMu_10000.root).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/cli.ts';
import { repoRoot } from '../shared.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from './helpers.ts';

let dir: string;
let ds: string;
useTempDir(async (d) => {
  dir = d;
  const bytes = readFileSync(ROOT_FILE());
  bytes[2_000_167 + 300] ^= 0x55;
  writeFileSync(join(dir, 'flipped.root'), bytes);
  ds = await writeJson(join(dir, 'ds.json'), { SingleMu: ['flipped.root'] });
});

const run = (extra: string[]) =>
  runNode([join(repoRoot, 'bin', 'run-analysis.mjs'), ds, fixture('met-muons.ts'), '-q', ...extra], {
    cwd: dir,
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });

describe('a damaged basket', () => {
  it('gives one message with one piece of advice, the same in process and on worker threads', async () => {
    // Two folders: one run per --out (a second run into a folder in use is refused).
    const [iterative, threads] = await Promise.all([
      run(['-o', 'out-iterative']),
      run(['-e', 'threads', '-w', '2', '-o', 'out-threads']),
    ]);
    for (const r of [iterative, threads]) {
      expect(r.code).toBe(1);
      const parts = r.stderr.trim().split(' — ');
      expect(parts).toHaveLength(2);
      expect(parts[0]).toMatch(
        /^run-analysis: cannot read dataset SingleMu, file .*flipped\.root \(tree Events\), entries \[0, 10000\): branch 'MET_pt' .* basket 0 \(entries \[0, 10000\), file byte \d+\): zlib .*incorrect data check$/,
      );
      expect(parts[1]).toBe(
        'the file is damaged; copy it again from its source, or pass --skipbadfiles to leave unreadable files out',
      );
    }
    expect(threads.stderr).toBe(iterative.stderr);
  });
});
