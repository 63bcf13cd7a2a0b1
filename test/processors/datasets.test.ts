/** The dataset JSONs in samples/datasets resolve (through the dataset loader) to the files they are meant for. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFileset } from '../../src/dataset/fileset.ts';
import { repoRoot, sharedPath } from '../shared.ts';

const json = (name: string) => resolve(repoRoot, 'samples', 'datasets', `${name}.json`);

describe('samples/datasets', () => {
  it.each([
    ['adl-singlemu-root', 'SingleMu_Run2012B', ['Run2012B_SingleMu_10000.root']],
    ['adl-singlemu-parquet', 'SingleMu_Run2012B', ['Run2012B_SingleMu-1000.parquet']],
    ['adl-singlemu-nested', 'SingleMu_Run2012B', ['Run2012B_SingleMu-restructured-1000.parquet']],
  ])('%s points at ../shared/data', async (name, dataset, files) => {
    const ds = await loadFileset(json(name));
    expect(ds.map((d) => d.name)).toEqual([dataset]);
    // files listed without a tree name: the reader takes Events (or the file's only tree)
    expect(ds[0].files.map((f) => [f.path, f.tree])).toEqual(
      files.map((f) => [sharedPath('data', f), name.endsWith('root') ? 'Events' : undefined]),
    );
  });

  it('zmumu.json has the dimuon data and the Drell-Yan simulation as two datasets', async () => {
    const ds = await loadFileset(json('zmumu'));
    expect(ds.map((d) => [d.name, d.files.map((f) => f.path), d.metadata.isData])).toEqual([
      ['DoubleMuon', [sharedPath('data', 'nano_dimuon.root')], true],
      ['DYJetsToLL', [sharedPath('data', 'nano_dy.root')], false],
    ]);
  });

  it('demo.json and adl-bench.json point at the generated (gitignored) files inside the repository', async () => {
    const [demo] = await loadFileset(json('demo'));
    expect(demo.files.map((f) => f.path)).toEqual([resolve(repoRoot, 'samples', 'data', 'demo.parquet')]);
    const [bench] = await loadFileset(json('adl-bench'));
    expect(bench.files.map((f) => f.path)).toEqual([resolve(repoRoot, 'bench', 'data', 'adl-2M.parquet')]);
  });
});
