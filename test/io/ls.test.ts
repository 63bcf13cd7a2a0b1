/**
 * `ristretto ls`: trees, branches with types, entries and sizes for ROOT files; schema, row groups and
 * sizes for Parquet and Arrow; duplicate branch names flagged; the only tree taken by default; `--json`.
 * Real files from ../shared/data, plus two edited copies (a duplicated branch name, two trees).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convert } from '../../src/io/convert.ts';
import { formatLs, inspectFile, type LsBranch } from '../../src/io/ls.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import { openRoot, TreeNotFoundError } from '../../src/io/root/index.ts';
import { tempDir } from '../helpers/files.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const SINGLEMU = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const HZZ = sharedPath('data', 'uproot-HZZ.root');
const HZZ_RAW = sharedPath('data', 'uproot-HZZ-uncompressed.root');
const RNTUPLE = sharedPath('data', 'Run2012BC_DoubleMuParked_Muons_1000evts_rntuple_v1-0-0-0.root');
const FLAT_PQ = sharedPath('data', 'Run2012B_SingleMu-1000.parquet');
const NESTED_PQ = sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet');
const dir = tempDir('ls');

// HZZ (uncompressed, so its tree metadata is plain bytes) with branch Jet_Py renamed Jet_Px: a duplicate name
const DUP = join(dir, 'dup.root');
writeFileSync(DUP, Buffer.from(readFileSync(HZZ_RAW).toString('latin1').replaceAll('Jet_Py', 'Jet_Px'), 'latin1'));
// nano_dimuon with Events renamed: two trees (Evxnts, Runs), none called Events
const TWO = join(dir, 'two.root');
writeFileSync(
  TWO,
  Buffer.from(
    readFileSync(sharedPath('data', 'nano_dimuon.root')).toString('latin1').replaceAll('Events', 'Evxnts'),
    'latin1',
  ),
);

function ls(...args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'ristretto.mjs'), 'ls', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
}

const byName = (bs: readonly LsBranch[]) => new Map(bs.map((b) => [b.name, b]));

describe('ls ROOT', () => {
  it('lists every branch of NanoAOD-like Events with types, counters, entries and sizes', async () => {
    const r = await inspectFile(SINGLEMU);
    expect(r.format).toBe('root');
    expect(r.trees).toEqual(['Events']);
    expect(r.objects).toEqual([{ name: 'Events', cycle: 1, className: 'TTree', entries: 10000 }]);
    const t = r.tree!;
    expect(t.name).toBe('Events');
    expect(t.entries).toBe(10000);
    const reader = await openRoot(SINGLEMU);
    expect(t.branches.map((b) => b.name)).toEqual(reader.describe().map((d) => d.name));
    await reader.close();
    const b = byName(t.branches);
    expect(b.get('Muon_pt')).toMatchObject({
      type: 'var * float32',
      dtype: 'float32',
      kind: 'jagged',
      countBranch: 'nMuon',
      stored: 'Muon_pt[nMuon]/F',
      entries: 10000,
      readable: true,
    });
    expect(b.get('event')).toMatchObject({ type: 'uint64', stored: 'event/l' });
    expect(b.get('HLT_IsoMu24')).toMatchObject({ type: 'bool' });
    expect(b.get('nMuon')!.counterOf).toContain('Muon_pt');
    expect(b.get('nMuon')!.counterOf).toContain('Muon_tightId');
    for (const x of t.branches) {
      expect(x.compressedBytes, x.name).toBeGreaterThan(0);
      expect(x.uncompressedBytes, x.name).toBeGreaterThan(0);
    }
    // the tree's totals are its branches' sums, and fit in the file
    const sumZip = t.branches.reduce((s, x) => s + x.compressedBytes!, 0);
    const sumTot = t.branches.reduce((s, x) => s + x.uncompressedBytes!, 0);
    expect(t.compressedBytes).toBe(sumZip);
    expect(t.uncompressedBytes).toBe(sumTot);
    expect(t.compressedBytes).toBeLessThan(t.uncompressedBytes);
    expect(t.compressedBytes).toBeLessThanOrEqual(r.fileBytes);
    expect(t.duplicates).toEqual([]);
  });

  it('an uncompressed file stores every branch at its uncompressed size; the zlib copy of it is smaller', async () => {
    const raw = (await inspectFile(HZZ_RAW)).tree!;
    for (const b of raw.branches) expect(b.compressedBytes, b.name).toBe(b.uncompressedBytes);
    const zlib = (await inspectFile(sharedPath('data', 'uproot-HZZ-zlib.root'))).tree!;
    expect(zlib.branches.map((b) => [b.name, b.type, b.uncompressedBytes])).toEqual(
      raw.branches.map((b) => [b.name, b.type, b.uncompressedBytes]),
    );
    expect(zlib.compressedBytes).toBeLessThan(raw.compressedBytes);
  });

  it('takes the only tree when none is named (HZZ: events)', async () => {
    const r = await inspectFile(HZZ);
    expect(r.tree!.name).toBe('events');
    expect(r.tree!.entries).toBe(2421);
    expect(byName(r.tree!.branches).get('Jet_Px')).toMatchObject({ type: 'var * float32', countBranch: 'NJet' });
  });

  it('flags duplicate branch names: the first is read, the second is shadowed', async () => {
    const t = (await inspectFile(DUP)).tree!;
    expect(t.duplicates).toEqual(['Jet_Px']);
    const jets = t.branches.filter((b) => b.name === 'Jet_Px');
    expect(jets.map((b) => [b.duplicate, b.shadowed, b.readable])).toEqual([
      [true, false, true],
      [true, true, false],
    ]);
    expect(byName(t.branches).get('NJet')!.counterOf).toEqual(['Jet_Px', 'Jet_Pz', 'Jet_E', 'Jet_btag', 'Jet_ID']);
    const text = formatLs(await inspectFile(DUP));
    expect(text).toMatch(/Jet_Px .*DUPLICATE name \(this one is read\)/);
    expect(text).toMatch(/Jet_Px .*DUPLICATE name \(shadowed: not readable by name\)/);
    expect(text).toContain('duplicate branch names: Jet_Px');
  });

  it('several trees and none named Events: lists them and asks for one; --tree picks it', async () => {
    const e = await inspectFile(TWO).catch((x: unknown) => x as Error);
    expect(e).toBeInstanceOf(TreeNotFoundError);
    const r = ls(TWO);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('Evxnts;1 (TTree, 40 entries), Runs;1 (TTree');
    expect(r.stderr).toContain('none is named Events: Evxnts, Runs');
    expect(r.stderr).toContain('--treename Evxnts');
    const runs = ls(TWO, '--tree', 'Runs');
    expect(runs.status, runs.stderr).toBe(0);
    expect(runs.stdout).toMatch(/tree Runs: 56 entries/);
  });

  it('NanoAOD: types from the leaves (the branch title holds the documentation), leaf lists as columns', async () => {
    const t = (await inspectFile(sharedPath('data', 'nano_dimuon.root'))).tree!;
    const b = byName(t.branches);
    expect(b.get('TrigObj_filterBits')).toMatchObject({
      type: 'var * int32',
      stored: 'TrigObj_filterBits[nTrigObj]/I',
      countBranch: 'nTrigObj',
    });
    expect(b.get('TrigObj_filterBits')!.title).toMatch(/^extra bits of associated information/);
    expect(b.get('run')).toMatchObject({ stored: 'run/i', type: 'uint32' });
    const leaves = (await inspectFile(sharedPath('data', 'root-corpus', 'uproot-leaflist.root'))).tree!.branches;
    expect(leaves.map((x) => [x.name, x.type, x.stored.split(' ')[0]])).toEqual([
      ['leaflist_x', 'float64', 'x/D'],
      ['leaflist_y', 'int32', 'y/I'],
      ['leaflist_z', 'int8', 'z/B'],
    ]);
  });

  it('an RNTuple is listed with its fields as NanoAOD-flat branches', async () => {
    const r = await inspectFile(RNTUPLE);
    expect(r.rntuples).toEqual(['Events']);
    expect(r.trees).toEqual([]);
    expect(r.tree?.rntuple).toBe(true);
    expect(r.tree?.entries).toBe(1000);
    const pt = r.tree?.branches.find((b) => b.name === 'Muon_pt');
    expect(pt).toMatchObject({
      type: 'var * float32',
      countBranch: 'nMuon',
      readable: true,
      stored: 'ROOT::VecOps::RVec<float> [SplitIndex64, SplitReal32]',
    });
    expect(r.tree?.branches.find((b) => b.name === 'nMuon')?.counterOf).toHaveLength(5);
    const text = formatLs(r);
    expect(text).toContain('RNTuples: Events');
    expect(text).toContain('RNTuple Events: 1,000 entries');
    expect((await inspectFile(RNTUPLE, { tree: 'Events' })).tree?.name).toBe('Events');
  });

  it('text and --json from the real command', async () => {
    const text = ls(SINGLEMU);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^.*Run2012B_SingleMu_10000\.root: ROOT file, [\d.]+ MB\n/);
    expect(text.stdout).toMatch(
      /tree Events: 10,000 entries, \d+ branches, [\d.]+ MB compressed, [\d.]+ MB uncompressed/,
    );
    expect(text.stdout).toMatch(
      /\nMuon_pt +var \* float32 +Muon_pt\[nMuon\]\/F +10000 +[\d.]+ kB +[\d.]+ kB +counts: nMuon\n/,
    );
    expect(text.stdout).toMatch(/\ntotal +10000 /);
    const json = ls(SINGLEMU, '--json');
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(await inspectFile(SINGLEMU))));
  });
});

describe('ls Parquet and Arrow', () => {
  it('flat Parquet: rows, row groups, every branch with its physical column and sizes', async () => {
    const r = await inspectFile(FLAT_PQ);
    expect(r.format).toBe('parquet');
    const t = r.tree!;
    expect(t.entries).toBe(1000);
    expect(t.rowGroups!.reduce((s, g) => s + g.entries, 0)).toBe(1000);
    const reader = await openParquet(FLAT_PQ);
    const readable = t.branches.filter((b) => b.readable);
    expect(readable.map((b) => [b.name, b.dtype, b.kind])).toEqual(
      reader.branches().map((b) => [b.name, b.dtype, b.kind]),
    );
    await reader.close();
    expect(byName(t.branches).get('Muon_pt')).toMatchObject({ type: 'var * float32', countBranch: 'nMuon' });
    expect(byName(t.branches).get('Muon_pt')!.stored).toMatch(/^Muon_pt\..*: FLOAT, repeated$/);
    expect(t.compressedBytes).toBe(readable.reduce((s, b) => s + (b.compressedBytes ?? 0), 0));
    expect(t.compressedBytes).toBeLessThanOrEqual(r.fileBytes);
  });

  it('nested Parquet: collection columns map to flat names, counts are synthesized', async () => {
    const t = (await inspectFile(NESTED_PQ)).tree!;
    const b = byName(t.branches);
    expect(b.get('Muon_pt')!.stored).toMatch(/^Muon\.list\.element\.pt: FLOAT/);
    expect(b.get('MET_pt')).toMatchObject({ type: 'float32', stored: 'MET.pt: FLOAT' });
    expect(b.get('nMuon')).toMatchObject({ synthesized: true, type: 'int32' });
    expect(b.get('nMuon')!.compressedBytes).toBeUndefined();
    expect(b.get('nMuon')!.counterOf).toContain('Muon_pt');
  });

  it('Arrow: record batches and the stored Arrow types (uint64, bool kept)', async () => {
    const root = await openRoot(SINGLEMU);
    const out = join(dir, 'mu.arrow');
    await convert(root, out, { branches: ['Muon_pt', 'event', 'HLT_IsoMu24'], entryStop: 3000, chunkSize: 1000 });
    await root.close();
    const r = await inspectFile(out);
    expect(r.format).toBe('arrow');
    const t = r.tree!;
    expect(t.entries).toBe(3000);
    expect(t.rowGroups!.map((g) => g.entries)).toEqual([1000, 1000, 1000]);
    expect(t.branches.map((b) => [b.name, b.type, b.stored])).toEqual([
      ['nMuon', 'uint32', 'Uint32'],
      ['Muon_pt', 'var * float32', 'List<Float32>'],
      ['event', 'uint64', 'Uint64'],
      ['HLT_IsoMu24', 'bool', 'Bool'],
    ]);
    expect(byName(t.branches).get('event')!.compressedBytes).toBe(3000 * 8);
    const text = ls(out);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toContain('record batches: 3');
  });

  it('unknown extensions are an LsError naming the formats', async () => {
    await expect(inspectFile(join(dir, 'x.csv'))).rejects.toThrow(
      /ristretto ls reads \.root, \.parquet, \.arrow and \.feather/,
    );
  });
});
