/**
 * The ROOT reader against an independent reference (jsroot's per-entry TSelector reading) on the CMS
 * open-data files, plus entry-range trimming, basket selection and the ADL query-1 reference.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Jagged } from '../../../src/columnar/types.ts';
import { openRoot, type RootReader } from '../../../src/io/root/index.ts';
import { sharedPath } from '../../shared.ts';
import { columnEvents } from '../../helpers/columns.ts';
import { expectSameColumn, expectSameEntries, sliceEntries } from './compare.ts';
import { jsrootBaskets, jsrootRead } from './jsroot-reference.ts';

const RUN2012 = sharedPath('data', 'Run2012B_SingleMu_10000.root');
const NANO_DY = sharedPath('data', 'nano_dy.root');

const JET = ['nJet', 'Jet_pt', 'Jet_eta', 'Jet_phi', 'Jet_mass', 'Jet_btag', 'Jet_puId'];
const MUON = [
  'nMuon',
  'Muon_pt',
  'Muon_eta',
  'Muon_phi',
  'Muon_mass',
  'Muon_charge',
  'Muon_pfRelIso04_all',
  'Muon_tightId',
];
const OTHER = ['MET_pt', 'MET_phi', 'run', 'event', 'HLT_IsoMu24'];

describe('Run2012B_SingleMu_10000.root', () => {
  let reader: RootReader;
  beforeAll(async () => {
    reader = await openRoot(RUN2012);
  });
  afterAll(() => reader.close());

  it('describes the tree without reading baskets', async () => {
    const before = reader.bytesRead;
    expect(reader.numEntries).toBe(10000);
    expect(reader.treeName).toBe('Events');
    const byName = new Map(reader.branches().map((b) => [b.name, b]));
    expect(byName.get('MET_pt')).toEqual({ name: 'MET_pt', kind: 'flat', dtype: 'float32' });
    expect(byName.get('Jet_pt')).toEqual({ name: 'Jet_pt', kind: 'jagged', dtype: 'float32', countBranch: 'nJet' });
    expect(byName.get('Muon_charge')).toMatchObject({ kind: 'jagged', dtype: 'int32', countBranch: 'nMuon' });
    expect(byName.get('event')).toMatchObject({ kind: 'flat', dtype: 'uint64' }); // ULong64_t
    expect(byName.get('HLT_IsoMu24')).toMatchObject({ kind: 'flat', dtype: 'bool' });
    expect(reader.branches()).toHaveLength(86);
    const layout = await jsrootBaskets(RUN2012, 'Events');
    const starts = new Set<number>();
    for (const l of layout.values()) l.entries.slice(0, -1).forEach((e) => starts.add(e));
    expect(reader.boundaries()).toEqual([...[...starts].sort((a, b) => a - b), 10000]);
    expect(reader.bytesRead).toBe(before);
  });

  const ranges: [number, number][] = [
    [0, 10000],
    [0, 1000],
    [1234, 5678],
    [9999, 10000],
  ];
  for (const [a, b] of ranges) {
    it(`matches jsroot's TSelector for jets, muons and MET in [${a}, ${b})`, async () => {
      const names = [...JET, ...MUON, ...OTHER];
      const want = await jsrootRead(RUN2012, 'Events', names, a, b);
      const got = await reader.read(names, a, b);
      for (const n of names) expectSameEntries(columnEvents(got[n]), want[n], n);
    });
  }

  it('gives empty columns for an empty range', async () => {
    const got = await reader.read(['MET_pt', 'Jet_pt'], 5000, 5000);
    expect(got.MET_pt).toHaveLength(0);
    expect(Array.from((got.Jet_pt as Jagged).offsets)).toEqual([0]);
  });

  it('reading the first 1000 events equals reading all and slicing', async () => {
    const names = [...JET, ...MUON, ...OTHER];
    const all = await reader.read(names, 0, 10000);
    const first = await reader.read(names, 0, 1000);
    for (const n of names) {
      expectSameEntries(columnEvents(first[n]), sliceEntries(all[n], 0, 1000), n);
      expect(first[n].constructor).toBe(all[n].constructor);
    }
  });

  it('count-branch offsets agree with the baskets’ own offset tables', async () => {
    const counted = await openRoot(RUN2012, { jaggedOffsets: 'count-branch' });
    try {
      const jagged = reader
        .branches()
        .filter((b) => b.kind === 'jagged')
        .map((b) => b.name);
      const a = await reader.read(jagged, 321, 9876);
      const b = await counted.read(jagged, 321, 9876);
      for (const n of jagged) expectSameColumn(b[n], a[n], n);
    } finally {
      await counted.close();
    }
  });

  it('reads only the baskets of the requested branches', async () => {
    const layout = await jsrootBaskets(RUN2012, 'Events');
    const before = reader.bytesRead;
    await reader.read(['MET_pt', 'Jet_pt'], 100, 200);
    const expected = [...layout.get('MET_pt')!.bytes, ...layout.get('Jet_pt')!.bytes].reduce((s, x) => s + x, 0);
    expect(reader.bytesRead - before).toBe(expected);
  });

  it('reproduces the ADL query-1 reference (MET_pt, 100 bins in [0, 2000), first 1000 events)', async () => {
    const met = (await reader.read(['MET_pt'], 0, 1000)).MET_pt as Float32Array;
    const [lo, hi, nbins] = [0, 2000, 100];
    const width = (hi - lo) / nbins;
    const counts = new Map<number, number>();
    for (const v of met) {
      const bin = v < lo ? -1 : v >= hi ? nbins : Math.floor((v - lo) / width);
      const centre = lo + (bin + 0.5) * width;
      counts.set(centre, (counts.get(centre) ?? 0) + 1);
    }
    const ref = readFileSync(sharedPath('adl', 'refs', 'query-1.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',').map(Number) as [number, number]);
    expect([...counts.entries()].sort((a, b) => a[0] - b[0])).toEqual(ref);
  });
});

describe('nano_dy.root (full NanoAOD branch set)', () => {
  it('matches jsroot for every readable branch, whole tree and a cut range', async () => {
    const reader = await openRoot(NANO_DY);
    try {
      const infos = reader.branches();
      expect(infos.length).toBe(1499);
      // jsroot needs count branches configured before the jagged branches that use them.
      const counts = new Set(infos.flatMap((b) => (b.countBranch ? [b.countBranch] : [])));
      const names = [...infos.filter((b) => counts.has(b.name)), ...infos.filter((b) => !counts.has(b.name))].map(
        (b) => b.name,
      );
      for (const [a, b] of [
        [0, 40],
        [7, 33],
      ] as const) {
        const want = await jsrootRead(NANO_DY, 'Events', names, a, b);
        const got = await reader.read(names, a, b);
        for (const n of names) expectSameEntries(columnEvents(got[n]), want[n], `${n} [${a}, ${b})`);
      }
    } finally {
      await reader.close();
    }
  });

  it('opens the second tree by name', async () => {
    const reader = await openRoot(NANO_DY, { treeName: 'Runs' });
    try {
      expect(reader.numEntries).toBe(1);
      const names = reader.branches().map((b) => b.name);
      const counts = new Set(reader.branches().flatMap((b) => (b.countBranch ? [b.countBranch] : [])));
      const ordered = [...names.filter((n) => counts.has(n)), ...names.filter((n) => !counts.has(n))];
      const want = await jsrootRead(NANO_DY, 'Runs', ordered, 0, 1);
      const got = await reader.read(ordered, 0, 1);
      for (const n of ordered) expectSameEntries(columnEvents(got[n]), want[n], n);
    } finally {
      await reader.close();
    }
  });
});
