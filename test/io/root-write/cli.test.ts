/**
 * The commands as a user runs them, in real processes: `ristretto convert X.parquet Y.root
 * --compression lz4:4`, then `run-analysis ... --format root` on the ROOT file; the histogram in
 * histograms.root (read by jsroot) must match the published ADL reference. Bad options fail with a
 * message that says what to do.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRef, refRows } from '../../adl/helpers.ts';
import { runNode } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/files.ts';
import { repoRoot, sharedPath } from '../../shared.ts';

const dir = tempDir('root-write-cli');

async function run(bin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await runNode([join(repoRoot, 'bin', bin), ...args], {
    cwd: repoRoot,
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('ROOT output from the command line', () => {
  it('convert to .root, then run-analysis --format root reproduces the ADL reference', async () => {
    const out = join(dir, 'singlemu.root');
    const c = await run('ristretto.mjs', [
      'convert',
      sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet'),
      out,
      '--compression',
      'lz4:4',
    ]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^wrote 1000 entries × \d+ branches to .*singlemu\.root \(root, 1 chunk\)/);

    const dataset = join(dir, 'dataset.json');
    writeFileSync(dataset, JSON.stringify({ singlemu: [out] }));
    const res = join(dir, 'out');
    const r = await run('run-analysis.mjs', [
      dataset,
      join(repoRoot, 'processors', 'adl', 'query-1.ts'),
      '--format',
      'json,root',
      '-o',
      res,
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { openFile } = (await import('jsroot')) as {
      openFile(
        p: string,
      ): Promise<{ readObject(n: string): Promise<{ _typename: string; fArray: ArrayLike<number> }> }>;
    };
    const h = await (await openFile(join(res, 'histograms.root'))).readObject('query-1');
    expect(h._typename).toBe('TH1D');
    const rows = refRows(Float64Array.from(h.fArray), 100, 0, 2000);
    expect(rows.map((x) => x.y)).toEqual(readRef('query-1').map((x) => x.y));
  }, 180_000);

  it('refuses --compression for other formats and unknown codecs, before writing anything', async () => {
    const input = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
    const a = await run('ristretto.mjs', ['convert', input, join(dir, 'x.parquet'), '--compression', 'lz4']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/--compression applies to ROOT output only — name the output \*\.root/);
    const b = await run('ristretto.mjs', ['convert', input, join(dir, 'y.root'), '--compression', 'brotli']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/cannot parse compression "brotli" — use zlib, lz4, zstd or none/);
    expect(existsSync(join(dir, 'x.parquet')) || existsSync(join(dir, 'y.root'))).toBe(false);
  }, 120_000);

  it('convert --compression zstd:3 writes a file that ristretto ls reads, with ZSTD baskets', async () => {
    const out = join(dir, 'singlemu-zstd.root');
    const c = await run('ristretto.mjs', [
      'convert',
      sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet'),
      out,
      '--compression',
      'zstd:3',
    ]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^wrote 1000 entries × \d+ branches to .*singlemu-zstd\.root/);
    const bytes = readFileSync(out);
    expect(bytes.indexOf(Buffer.from([0x5a, 0x53, 1])), 'a ZS block header').toBeGreaterThan(100);
    const l = await run('ristretto.mjs', ['ls', out]);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain('Muon_pt');
  }, 120_000);
});
