/**
 * A ROOT file with exactly one tree needs no tree name anywhere (openRoot, dataset JSON + preprocessing,
 * run-analysis, convert); with several trees and no `Events`, the error lists them and names the
 * `--treename` flag. The several-trees file is nano_dimuon.root with `Events` renamed (so: trees
 * `Evxnts` and `Runs`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { resolveFileset } from '../../src/dataset/fileset.ts';
import { planWork } from '../../src/dataset/preprocess.ts';
import { registerConvertCommand } from '../../src/io/convert.ts';
import { openReader } from '../../src/io/open.ts';
import { defaultTreeName, openRoot, TreeNotFoundError } from '../../src/io/root/index.ts';
import { tempDir } from '../helpers/files.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const ONE_TREE = sharedPath('data', 'uproot-HZZ.root'); // a single tree, `events`
const dir = tempDir('default-tree');
const TWO_TREES = join(dir, 'two-trees.root');
{
  const b = readFileSync(sharedPath('data', 'nano_dimuon.root'));
  for (let i = b.indexOf('Events'); i >= 0; i = b.indexOf('Events', i + 1)) b.write('Evxnts', i);
  writeFileSync(TWO_TREES, b);
}

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('did not throw');
}

function runAnalysis(args: string[]) {
  return spawnSync(process.execPath, [join(repoRoot, 'bin', 'run-analysis.mjs'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, RISTRETTO_DEBUG: '' },
  });
}

describe('default tree', () => {
  it('defaultTreeName: Events first, else the only tree, else an error naming --treename', () => {
    const k = (fName: string, fClassName = 'TTree') => ({ fName, fClassName });
    expect(defaultTreeName([k('Runs'), k('Events'), k('StreamerInfo', 'TList')], 'f.root')).toBe('Events');
    expect(defaultTreeName([k('events'), k('StreamerInfo', 'TList'), k('h', 'TH1F')], 'f.root')).toBe('events');
    expect(() => defaultTreeName([k('a'), k('b')], 'f.root')).toThrow(
      /f\.root holds 2 trees and none is named Events: a, b — choose one with --treename, e.g. --treename a/,
    );
    expect(() => defaultTreeName([k('h', 'TH1F')], 'f.root')).toThrow(/holds no TTree/);
  });

  it('openRoot takes the only tree of a file without being told', async () => {
    const r = await openRoot(ONE_TREE);
    expect(r.treeName).toBe('events');
    expect(r.numEntries).toBe(2421);
    await r.close();
  });

  it('several trees without Events: the error lists them and names the flag, not the library option', async () => {
    const e = await caught(openRoot(TWO_TREES));
    expect(e).toBeInstanceOf(TreeNotFoundError);
    expect(e.message).toContain('holds 2 trees and none is named Events: Evxnts, Runs');
    expect(e.message).toContain('--treename Evxnts');
    expect(e.message).not.toContain('treeName');
    const r = await openRoot(TWO_TREES, { treeName: 'Evxnts' });
    expect(r.numEntries).toBe(40);
    await r.close();
    // a wrong explicit name also names the flag
    const w = await caught(openRoot(TWO_TREES, { treeName: 'evxnts' }));
    expect(w.message).toContain('--treename Evxnts');
    expect(w.message).not.toContain('treeName');
  });

  it('dataset files without a tree: preprocessing records the tree the reader took, also from the cache', async () => {
    const ds = await resolveFileset({ hzz: [ONE_TREE], dy: { files: [sharedPath('data', 'nano_dy.root')] } }, dir);
    expect(ds[0].files).toEqual([{ path: ONE_TREE }]);
    const cacheFile = join(dir, 'cache.json');
    const first = await planWork(ds, { cacheFile, chunksize: 1000 });
    expect(first.files.map((f) => f.tree)).toEqual(['events', 'Events']);
    expect(new Set(first.items.map((i) => `${i.file}:${i.tree}`))).toEqual(
      new Set([`${ONE_TREE}:events`, `${sharedPath('data', 'nano_dy.root')}:Events`]),
    );
    const again = await planWork(ds, { cacheFile, chunksize: 1000 });
    expect(again.cacheHits).toBe(2);
    expect(again.files.map((f) => f.tree)).toEqual(['events', 'Events']);
    // --treename (the caller's default) still applies to files that name none
    const named = await resolveFileset({ hzz: [ONE_TREE] }, dir, { treeName: 'events' });
    expect(named[0].files).toEqual([{ path: ONE_TREE, tree: 'events' }]);
  });

  it('run-analysis needs no --treename for a one-tree file, and names the flag for a file with several', () => {
    const ds = join(dir, 'ds.json');
    writeFileSync(ds, JSON.stringify({ hzz: [ONE_TREE] }));
    const out = join(dir, 'out');
    const ok = runAnalysis([ds, join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'), '-o', out, '-q']);
    expect(ok.status, ok.stderr).toBe(0);
    const acc = JSON.parse(readFileSync(join(out, 'accumulator.json'), 'utf8'));
    expect(acc).toEqual({ events: { hzz: 2421 }, trees: { events: 1 } });

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ two: [TWO_TREES] }));
    const r = runAnalysis([
      bad,
      join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'),
      '-o',
      join(dir, 'out2'),
      '-q',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('none is named Events: Evxnts, Runs');
    expect(r.stderr).toContain('--treename Evxnts');
    expect(r.stderr).not.toContain('treeName');
    const ok2 = runAnalysis([
      bad,
      join(repoRoot, 'test', 'fixtures', 'processors', 'count-events.ts'),
      '-o',
      join(dir, 'out3'),
      '-q',
      '--treename',
      'Evxnts',
    ]);
    expect(ok2.status, ok2.stderr).toBe(0);
  });

  it('convert needs no --treename for a one-tree file', async () => {
    const program = new Command('ristretto').exitOverride();
    registerConvertCommand(program, (path, opts) => openReader(path, opts));
    const out = join(dir, 'hzz.parquet');
    await program.parseAsync(['convert', ONE_TREE, out, '--branches', 'NMuon,MET_px'], { from: 'user' });
    const r = await openReader(out);
    expect(r.numEntries).toBe(2421);
    expect(r.branches().map((b) => b.name)).toEqual(['NMuon', 'MET_px']);
    await r.close();
    const e = await caught(program.parseAsync(['convert', TWO_TREES, join(dir, 'x.parquet')], { from: 'user' }));
    expect(e.message).toContain('--treename');
  });
});
