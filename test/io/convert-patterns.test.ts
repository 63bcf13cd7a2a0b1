/** `convert --branches` takes glob patterns (`Muon_*`, `HLT_IsoMu?4`); a pattern matching nothing names close branches. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openArrow } from '../../src/io/arrow/index.ts';
import { convert, ConvertError, expandBranchPatterns } from '../../src/io/convert.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { tempDir } from '../helpers/files.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const ROOT = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const dir = tempDir('convert-patterns');

describe('branch patterns', () => {
  const names = ['nMuon', 'Muon_pt', 'Muon_eta', 'MET_pt', 'HLT_IsoMu24', 'HLT_IsoMu17', 'Jet_pt'];

  it('expand * ? and [..] in the order of the file; plain names pass through', () => {
    expect(expandBranchPatterns(['Muon_*'], names)).toEqual(['Muon_pt', 'Muon_eta']);
    expect(expandBranchPatterns(['HLT_IsoMu?4', 'MET_pt'], names)).toEqual(['HLT_IsoMu24', 'MET_pt']);
    expect(expandBranchPatterns(['*_pt'], names)).toEqual(['Muon_pt', 'MET_pt', 'Jet_pt']);
    expect(expandBranchPatterns(['HLT_IsoMu[12]?'], names)).toEqual(['HLT_IsoMu24', 'HLT_IsoMu17']);
    expect(expandBranchPatterns(['NoSuchBranch'], names)).toEqual(['NoSuchBranch']); // left to the reader's error
  });

  it('a pattern matching nothing is a ConvertError naming close branches', () => {
    const e = (() => {
      try {
        expandBranchPatterns(['muon_*'], names);
      } catch (x) {
        return x as ConvertError;
      }
    })();
    expect(e).toBeInstanceOf(ConvertError);
    expect(e!.message).toMatch(
      /pattern 'muon_\*' matches no branch; closest: Muon_pt, Muon_eta — names are case-sensitive$/,
    );
    expect(() => expandBranchPatterns(['Muonn_*'], names)).toThrow(/closest: .*Muon_/);
  });

  it('convert() writes every branch a pattern matches, plus counts branches', async () => {
    const r = await openRoot(ROOT);
    const out = join(dir, 'muons.parquet');
    const res = await convert(r, out, { branches: ['Muon_*', 'MET_pt'], entryStop: 100 });
    const muon = r
      .branches()
      .filter((b) => b.name.startsWith('Muon_'))
      .map((b) => b.name);
    expect(muon.length).toBeGreaterThan(10);
    expect(res.branches).toEqual(['nMuon', ...muon, 'MET_pt']);
    await expect(convert(r, join(dir, 'none.parquet'), { branches: ['Muon_*', 'Moun_*'] })).rejects.toThrow(
      /'Moun_\*' matches no branch in tree 'Events' of .*; closest: /,
    );
    expect(existsSync(join(dir, 'none.parquet'))).toBe(false);
    await r.close();
  });

  it('ristretto convert --branches with a wildcard, and its error', async () => {
    const bin = join(repoRoot, 'bin', 'ristretto.mjs');
    const out = join(dir, 'cli.arrow');
    const ok = spawnSync(
      process.execPath,
      [bin, 'convert', ROOT, out, '--branches', 'Muon_p*,HLT_IsoMu2?', '--entries', '0:50'],
      { encoding: 'utf8' },
    );
    expect(ok.status, ok.stderr).toBe(0);
    const a = await openArrow(out);
    const root = await openRoot(ROOT);
    const all = root.branches().map((b) => b.name);
    // pattern by pattern, each in the file's order
    const want = [...all.filter((n) => /^Muon_p.*$/.test(n)), ...all.filter((n) => /^HLT_IsoMu2.$/.test(n))];
    await root.close();
    expect(want).toContain('Muon_pt');
    expect(want).toContain('HLT_IsoMu24');
    expect(a.branches().map((b) => b.name)).toEqual(['nMuon', ...want]);
    expect(a.numEntries).toBe(50);
    const bad = spawnSync(process.execPath, [bin, 'convert', ROOT, join(dir, 'bad.arrow'), '--branches', 'Moun_*'], {
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/branch pattern 'Moun_\*' matches no branch .*closest: /);
  });
});
