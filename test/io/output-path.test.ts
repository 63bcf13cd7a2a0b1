/** Output paths are checked before any work: a file where a folder belongs fails at once, naming both. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertOutputFile, assertOutputFolder, OutputPathError } from '../../src/io/output-path.ts';
import { runNode } from '../helpers/cli.ts';
import { fixture, ROOT_FILE, useTempDir, writeJson } from '../runner/helpers.ts';
import { repoRoot } from '../shared.ts';

let dir = '';
useTempDir((d) => {
  dir = d;
  writeFileSync(join(d, 'afile'), 'keep me\n');
  mkdirSync(join(d, 'folder'));
});

describe('assertOutputFolder', () => {
  it('accepts an existing folder and one still to be made under a folder', () => {
    expect(() => assertOutputFolder(join(dir, 'folder'), '--out')).not.toThrow();
    expect(() => assertOutputFolder(join(dir, 'folder', 'a', 'b'), '--out')).not.toThrow();
  });

  it('refuses a file, and a path under a file, naming the file', () => {
    expect(() => assertOutputFolder(join(dir, 'afile'), '--out')).toThrow(OutputPathError);
    expect(() => assertOutputFolder(join(dir, 'afile'), '--out')).toThrow(/--out .*afile is a file, not a folder/);
    expect(() => assertOutputFolder(join(dir, 'afile', 'sub', 'x'), '--out')).toThrow(
      `lies under ${join(dir, 'afile')}, which is a file`,
    );
  });
});

describe('assertOutputFile', () => {
  it('accepts a new or existing file in a folder, and a missing folder only when it may be made', () => {
    expect(() => assertOutputFile(join(dir, 'folder', 'x.png'), '--out')).not.toThrow();
    expect(() => assertOutputFile(join(dir, 'afile'), '--out')).not.toThrow();
    expect(() => assertOutputFile(join(dir, 'nodir', 'x.png'), '--out')).toThrow(/folder .*nodir does not exist/);
    expect(() => assertOutputFile(join(dir, 'nodir', 'x.png'), '--out', { makeFolder: true })).not.toThrow();
  });

  it('refuses a folder and a path under a file', () => {
    expect(() => assertOutputFile(join(dir, 'folder'), '--out')).toThrow(/is a folder, not a file/);
    expect(() => assertOutputFile(join(dir, 'afile', 'x.png'), '--out')).toThrow(/which is a file/);
  });
});

describe('commands check their output before working', () => {
  it('run-analysis --out FILE fails at once and leaves the file as it was', async () => {
    const ds = await writeJson(join(dir, 'ds.json'), { zmm: [ROOT_FILE()] });
    const r = await runNode([
      join(repoRoot, 'bin', 'run-analysis.mjs'),
      ds,
      fixture('met-muons.ts'),
      '--out',
      join(dir, 'afile', 'sub'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^run-analysis: --out .*afile\/sub lies under .*afile, which is a file — choose another --out folder/,
    );
    // Nothing ran: no progress, no cutflow.
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/chunk|ENOTDIR/);
  });

  it('ristretto convert into a path under a file fails before reading', async () => {
    const r = await runNode([
      join(repoRoot, 'bin', 'ristretto.mjs'),
      'convert',
      ROOT_FILE(),
      join(dir, 'afile', 'x.parquet'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/output .*afile\/x\.parquet lies under .*afile, which is a file/);
    expect(r.stderr).not.toMatch(/ENOTDIR|partial/);
  });
});
