/**
 * ADL queries 6–8 (no published references shipped) against naive per-event implementations written here with
 * plain JS objects and arrays, straight from the task definitions. The events come from hyparquet's row API on
 * the nested Parquet file, so neither Ristretto's readers nor its kernels are involved on the naive side. The
 * processors run through the runner on the nested Parquet file, on the flat one, and on the ROOT file's first
 * 1,000 entries (the same events), and on the threads executor once.
 */
import { parquetReadObjects } from 'hyparquet';
import { asyncBufferFromFile } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../shared.ts';
import { runQuery } from './helpers.ts';

interface P4 {
  pt: number;
  eta: number;
  phi: number;
  mass: number;
}
interface Lepton extends P4 {
  charge: number;
  flavour: 'mu' | 'e';
}
interface Event {
  MET: { pt: number; phi: number };
  Jet: Array<P4 & { btag: number }>;
  Muon: Array<P4 & { charge: number }>;
  Electron: Array<P4 & { charge: number }>;
}

function cartesian(objs: P4[]): { x: number; y: number; z: number; e: number } {
  let x = 0;
  let y = 0;
  let z = 0;
  let e = 0;
  for (const o of objs) {
    const px = o.pt * Math.cos(o.phi);
    const py = o.pt * Math.sin(o.phi);
    const pz = o.pt * Math.sinh(o.eta);
    x += px;
    y += py;
    z += pz;
    e += Math.sqrt((o.pt * Math.cosh(o.eta)) ** 2 + o.mass * o.mass);
  }
  return { x, y, z, e };
}

function invariantMass(objs: P4[]): number {
  const s = cartesian(objs);
  return Math.sqrt(Math.max(0, s.e * s.e - s.x * s.x - s.y * s.y - s.z * s.z));
}

function deltaR(a: { eta: number; phi: number }, b: { eta: number; phi: number }): number {
  let dphi = a.phi - b.phi;
  while (dphi >= Math.PI) dphi -= 2 * Math.PI;
  while (dphi < -Math.PI) dphi += 2 * Math.PI;
  return Math.sqrt((a.eta - b.eta) ** 2 + dphi ** 2);
}

/** Counts per bin, [underflow, bins..., overflow], binned by division. */
function histogram(values: number[], bins: number, lo: number, hi: number): number[] {
  const out = new Array<number>(bins + 2).fill(0);
  for (const v of values) {
    if (v < lo) out[0]++;
    else if (v >= hi) out[bins + 1]++;
    else out[1 + Math.floor(((v - lo) / (hi - lo)) * bins)]++;
  }
  return out;
}

function naiveQuery6(events: Event[]): { pt: number[]; btag: number[] } {
  const pt: number[] = [];
  const btag: number[] = [];
  for (const ev of events) {
    const jets = ev.Jet;
    if (jets.length < 3) continue;
    let best: (typeof jets)[number][] | null = null;
    let bestDiff = Infinity;
    for (let i = 0; i < jets.length; i++)
      for (let j = i + 1; j < jets.length; j++)
        for (let k = j + 1; k < jets.length; k++) {
          const triple = [jets[i], jets[j], jets[k]];
          const diff = Math.abs(invariantMass(triple) - 172.5);
          if (diff < bestDiff) {
            bestDiff = diff;
            best = triple;
          }
        }
    const s = cartesian(best!);
    pt.push(Math.hypot(s.x, s.y));
    btag.push(Math.max(...best!.map((j) => j.btag)));
  }
  return { pt, btag };
}

function naiveQuery7(events: Event[]): number[] {
  const out: number[] = [];
  for (const ev of events) {
    const leptons = [...ev.Muon, ...ev.Electron].filter((l) => l.pt > 10);
    const jets = ev.Jet.filter((j) => j.pt > 30 && leptons.every((l) => deltaR(j, l) >= 0.4));
    if (jets.length > 0) out.push(jets.reduce((a, j) => a + j.pt, 0));
  }
  return out;
}

function naiveQuery8(events: Event[]): number[] {
  const out: number[] = [];
  for (const ev of events) {
    const leptons: Lepton[] = [
      ...ev.Muon.map((m) => ({ ...m, flavour: 'mu' as const })),
      ...ev.Electron.map((e) => ({ ...e, flavour: 'e' as const })),
    ];
    if (leptons.length < 3) continue;
    let pair: [number, number] | null = null;
    let bestDiff = Infinity;
    for (let i = 0; i < leptons.length; i++)
      for (let j = i + 1; j < leptons.length; j++) {
        const a = leptons[i];
        const b = leptons[j];
        if (a.flavour !== b.flavour || a.charge === b.charge) continue;
        const diff = Math.abs(invariantMass([a, b]) - 91.2);
        if (diff < bestDiff) {
          bestDiff = diff;
          pair = [i, j];
        }
      }
    if (!pair) continue;
    const others = leptons.filter((_, i) => i !== pair[0] && i !== pair[1]);
    const lead = others.reduce((a, b) => (b.pt > a.pt ? b : a));
    out.push(Math.sqrt(2 * ev.MET.pt * lead.pt * (1 - Math.cos(ev.MET.phi - lead.phi))));
  }
  return out;
}

let events: Event[];
beforeAll(async () => {
  const file = await asyncBufferFromFile(sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet'));
  events = (await parquetReadObjects({ file, columns: ['MET', 'Jet', 'Muon', 'Electron'] })) as unknown as Event[];
  expect(events).toHaveLength(1000);
});

const INPUTS = [
  {
    label: 'nested Parquet',
    file: 'Run2012B_SingleMu-restructured-1000.parquet',
    chunksize: 400,
    maxchunks: undefined,
  },
  { label: 'flat Parquet', file: 'Run2012B_SingleMu-1000.parquet', chunksize: 1000, maxchunks: undefined },
  { label: 'ROOT (first 1,000 entries)', file: 'Run2012B_SingleMu_10000.root', chunksize: 500, maxchunks: 2 },
];

describe.each(INPUTS)('ADL queries 6–8 on $label equal a naive per-event loop', ({ file, chunksize, maxchunks }) => {
  it('query-6: trijet pt and max b-tag', async () => {
    const h = await runQuery('query-6', file, { chunksize, maxchunks });
    const naive = naiveQuery6(events);
    expect(naive.pt.length).toBeGreaterThan(50);
    expect([...h['query-6-1'].values({ flow: true })]).toEqual(histogram(naive.pt, 100, 15, 40));
    expect([...h['query-6-2'].values({ flow: true })]).toEqual(histogram(naive.btag, 100, 0, 1));
  });

  it('query-7: scalar sum of isolated jet pt', async () => {
    const h = await runQuery('query-7', file, { chunksize, maxchunks });
    const naive = naiveQuery7(events);
    expect(naive.length).toBeGreaterThan(50);
    expect([...h['query-7'].values({ flow: true })]).toEqual(histogram(naive, 100, 15, 200));
  });

  it('query-8: transverse mass of MET and the lepton outside the Z candidate', async () => {
    const h = await runQuery('query-8', file, { chunksize, maxchunks });
    const naive = naiveQuery8(events);
    expect(naive.length).toBeGreaterThan(0);
    expect([...h['query-8'].values({ flow: true })]).toEqual(histogram(naive, 100, 15, 250));
  });
});

describe('threads executor', () => {
  it('query-6 on two worker threads equals the naive loop', async () => {
    const h = await runQuery('query-6', 'Run2012B_SingleMu-restructured-1000.parquet', {
      chunksize: 250,
      executor: 'threads',
    });
    const naive = naiveQuery6(events);
    expect([...h['query-6-1'].values({ flow: true })]).toEqual(histogram(naive.pt, 100, 15, 40));
    expect([...h['query-6-2'].values({ flow: true })]).toEqual(histogram(naive.btag, 100, 0, 1));
  });
});
