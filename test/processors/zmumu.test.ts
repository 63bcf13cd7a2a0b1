/**
 * Z→μμ processors against naive per-event loops written here: the cutflow and mass histogram of
 * processors/zmumu.ts and the weighted sums (nominal and every variation) of processors/zmumu-weighted.ts.
 * Processors run through the runner on the ROOT files; the naive side reads the same events as rows from
 * the Parquet copies with hyparquet (and, for the synthetic sample, from the generator's columns directly).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Jagged, NumericArray } from '../../src/columnar/types.ts';
import type { Dataset } from '../../src/dataset/fileset.ts';
import type { Hist } from '../../src/hist/hist.ts';
import { writeParquet } from '../../src/io/parquet/write.ts';
import { runAnalysis } from '../../src/runner/run.ts';
import { generateEvents } from '../../samples/synth.ts';
import { SF_ERROR, SF_ETA_EDGES, SF_PT_EDGES, SF_VALUE } from '../../processors/zmumu-weighted.ts';
import { repoRoot, sharedPath } from '../shared.ts';

interface Muon {
  pt: number;
  eta: number;
  phi: number;
  mass: number;
  charge: number;
  tightId: boolean;
  iso: number;
}
interface Event {
  trigger: boolean;
  muons: Muon[];
  genWeight?: number;
  nTrueInt?: number;
}

const CUTS = ['trigger', 'twoMuons', 'tightId', 'isolated', 'oppositeCharge', 'massWindow'];

/** The selection straight from its definition, on plain objects. */
function naiveSelect(ev: Event): { pass: Record<string, boolean>; mass: number; lead?: Muon; sub?: Muon } {
  const acc = ev.muons.filter((m) => m.pt > 15 && Math.abs(m.eta) < 2.4);
  const tight = acc.filter((m) => m.tightId);
  const good = tight.filter((m) => m.iso < 0.15).sort((a, b) => b.pt - a.pt);
  const pass: Record<string, boolean> = {
    trigger: ev.trigger,
    twoMuons: acc.length >= 2,
    tightId: tight.length >= 2,
    isolated: good.length >= 2,
    oppositeCharge: false,
    massWindow: false,
  };
  if (good.length < 2) return { pass, mass: NaN };
  const [a, b] = good as [Muon, Muon];
  const p = (m: Muon) => [m.pt * Math.cos(m.phi), m.pt * Math.sin(m.phi), m.pt * Math.sinh(m.eta)] as const;
  const [ax, ay, az] = p(a);
  const [bx, by, bz] = p(b);
  const e = Math.hypot(ax, ay, az, a.mass) + Math.hypot(bx, by, bz, b.mass);
  const mass = Math.sqrt(Math.max(0, e ** 2 - (ax + bx) ** 2 - (ay + by) ** 2 - (az + bz) ** 2));
  pass.oppositeCharge = a.charge !== b.charge;
  pass.massWindow = mass >= 60 && mass <= 120;
  return { pass, mass, lead: a, sub: b };
}

function naiveCutflow(events: Event[]): {
  cutflow: Record<string, number>;
  onecut: Record<string, number>;
  masses: number[];
} {
  const cutflow: Record<string, number> = { initial: events.length };
  const onecut: Record<string, number> = { initial: events.length };
  for (const c of CUTS) cutflow[c] = onecut[c] = 0;
  const masses: number[] = [];
  for (const ev of events) {
    const { pass, mass } = naiveSelect(ev);
    let all = true;
    for (const c of CUTS) {
      if (pass[c]) onecut[c]++;
      all = all && pass[c];
      if (all) cutflow[c]++;
    }
    if (all) masses.push(mass);
  }
  return { cutflow, onecut, masses };
}

function sf(m: Muon): [number, number] {
  const a = Math.abs(m.eta);
  let i = SF_ETA_EDGES.findIndex((lo, k) => a >= lo && (k === SF_ETA_EDGES.length - 1 || a < SF_ETA_EDGES[k + 1]));
  if (i < 0 || i >= SF_VALUE.length) i = SF_VALUE.length - 1;
  let j = 0;
  for (let k = 0; k < SF_PT_EDGES.length; k++) if (m.pt >= SF_PT_EDGES[k]) j = k;
  return [SF_VALUE[i][j], SF_ERROR[i][j]];
}

function pileup(n: number, mean: number): number {
  const gauss = (x: number, mu: number, s: number) => Math.exp(-((x - mu) ** 2) / (2 * s * s)) / s;
  return gauss(n, mean, 9) / gauss(n, 32, 11);
}

/** Σw and Σw² per mass bin (flow included) for every systematic, from the definitions. */
function naiveWeighted(events: Event[]): Record<string, { sumw: number[]; sumw2: number[] }> {
  const out: Record<string, { sumw: number[]; sumw2: number[] }> = {};
  const add = (syst: string, mass: number, w: number) => {
    out[syst] ??= { sumw: new Array(62).fill(0), sumw2: new Array(62).fill(0) };
    const b = mass < 60 ? 0 : mass >= 120 ? 61 : 1 + Math.floor(((mass - 60) / 60) * 60);
    out[syst].sumw[b] += w;
    out[syst].sumw2[b] += w * w;
  };
  for (const ev of events) {
    const { pass, mass, lead, sub } = naiveSelect(ev);
    if (!CUTS.every((c) => pass[c])) continue;
    if (ev.genWeight === undefined) {
      add('nominal', mass, 1);
      continue;
    }
    const [s1, u1] = sf(lead!);
    const [s2, u2] = sf(sub!);
    const pu =
      ev.nTrueInt === undefined
        ? undefined
        : [pileup(ev.nTrueInt, 30), pileup(ev.nTrueInt, 31.5), pileup(ev.nTrueInt, 28.5)];
    const g = ev.genWeight;
    const p = pu ? pu[0] : 1;
    add('nominal', mass, g * s1 * s2 * p);
    add('muonSFUp', mass, g * (s1 + u1) * (s2 + u2) * p);
    add('muonSFDown', mass, g * (s1 - u1) * (s2 - u2) * p);
    if (pu) {
      add('pileupUp', mass, g * s1 * s2 * pu[1]);
      add('pileupDown', mass, g * s1 * s2 * pu[2]);
    }
  }
  return out;
}

/** Rows of a NanoAOD Parquet file as Events (hyparquet's row API: one JS object per event). */
async function parquetEvents(file: string): Promise<Event[]> {
  const buf = await asyncBufferFromFile(sharedPath('data', file));
  const cols = [
    'HLT_IsoMu24',
    'Muon_pt',
    'Muon_eta',
    'Muon_phi',
    'Muon_mass',
    'Muon_charge',
    'Muon_tightId',
    'Muon_pfRelIso04_all',
  ];
  const probe = await parquetReadObjects({ file: buf, compressors, rowStart: 0, rowEnd: 1 });
  const mc = 'genWeight' in probe[0];
  const rows = (await parquetReadObjects({
    file: buf,
    compressors,
    columns: mc ? [...cols, 'genWeight', 'Pileup_nTrueInt'] : cols,
  })) as Array<Record<string, unknown>>;
  return rows.map((r) => {
    const arr = (k: string) => r[k] as number[];
    return {
      trigger: Boolean(r.HLT_IsoMu24),
      muons: arr('Muon_pt').map((pt, i) => ({
        pt,
        eta: arr('Muon_eta')[i],
        phi: arr('Muon_phi')[i],
        mass: arr('Muon_mass')[i],
        charge: arr('Muon_charge')[i],
        tightId: Boolean(arr('Muon_tightId')[i]),
        iso: arr('Muon_pfRelIso04_all')[i],
      })),
      ...(mc ? { genWeight: r.genWeight as number, nTrueInt: r.Pileup_nTrueInt as number } : {}),
    };
  });
}

/** Generator columns as Events. */
function synthEvents(cols: Record<string, NumericArray | Jagged>): Event[] {
  const j = (k: string) => cols[k] as Jagged;
  const flat = (k: string) => cols[k] as NumericArray;
  const out: Event[] = [];
  const off = j('Muon_pt').offsets;
  for (let e = 0; e < off.length - 1; e++) {
    const muons: Muon[] = [];
    for (let k = off[e]; k < off[e + 1]; k++) {
      muons.push({
        pt: j('Muon_pt').content[k],
        eta: j('Muon_eta').content[k],
        phi: j('Muon_phi').content[k],
        mass: j('Muon_mass').content[k],
        charge: j('Muon_charge').content[k],
        tightId: j('Muon_tightId').content[k] !== 0,
        iso: j('Muon_pfRelIso04_all').content[k],
      });
    }
    out.push({ trigger: flat('HLT_IsoMu24')[e] !== 0, muons, genWeight: flat('genWeight')[e] });
  }
  return out;
}

function ds(name: string, path: string): Dataset {
  return { name, files: [{ path, tree: 'Events' }], metadata: {} };
}

async function run<A>(processor: string, datasets: Dataset[], chunksize?: number): Promise<A> {
  const r = await runAnalysis<A>({
    fileset: datasets,
    processor: resolve(repoRoot, 'processors', processor),
    chunksize,
    cacheFile: false,
  });
  return r.accumulator;
}

type Cutflow = {
  cutflow: Record<string, Record<string, number>>;
  onecut: Record<string, Record<string, number>>;
  mass: Hist;
};
type Weighted = { mass: Hist; sumw: Record<string, number> };

function massCounts(masses: number[]): number[] {
  const out = new Array<number>(62).fill(0);
  for (const m of masses) out[m < 60 ? 0 : m >= 120 ? 61 : 1 + Math.floor(((m - 60) / 60) * 60)]++;
  return out;
}

function expectWeighted(h: Hist, dataset: string, naive: ReturnType<typeof naiveWeighted>): void {
  const d = h.select('dataset', dataset);
  const systs = (d.axis('systematic') as unknown as { categories: string[] }).categories;
  const filled = systs.filter((s) => d.select('systematic', s).sum({ flow: true }).count > 0);
  expect(filled.sort()).toEqual(Object.keys(naive).sort());
  for (const [syst, want] of Object.entries(naive)) {
    const s = d.select('systematic', syst);
    const sumw = [...s.values({ flow: true })];
    const sumw2 = [...s.variances({ flow: true })!];
    // Same products summed in another order: equal to rounding.
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    sumw.forEach((v, i) => expect(close(v, want.sumw[i]), `${syst} bin ${i}: Σw ${v} vs ${want.sumw[i]}`).toBe(true));
    sumw2.forEach((v, i) =>
      expect(close(v, want.sumw2[i]), `${syst} bin ${i}: Σw² ${v} vs ${want.sumw2[i]}`).toBe(true),
    );
  }
}

describe('zmumu on the CMS NanoAOD files', () => {
  it('cutflow per dataset and mass histogram equal a naive loop', async () => {
    const out = await run<Cutflow>(
      'zmumu.ts',
      [ds('DoubleMuon', sharedPath('data', 'nano_dimuon.root')), ds('DYJetsToLL', sharedPath('data', 'nano_dy.root'))],
      15,
    );
    const dimuon = naiveCutflow(await parquetEvents('nano_dimuon.parquet'));
    const dy = naiveCutflow(await parquetEvents('nano_dy.parquet'));
    expect(out.cutflow.DoubleMuon).toEqual(dimuon.cutflow);
    expect(out.onecut.DoubleMuon).toEqual(dimuon.onecut);
    expect(out.cutflow.DYJetsToLL).toEqual(dy.cutflow);
    expect(out.onecut.DYJetsToLL).toEqual(dy.onecut);
    expect(dimuon.cutflow.massWindow).toBeGreaterThan(0);
    expect([...out.mass.values({ flow: true })]).toEqual(massCounts([...dimuon.masses, ...dy.masses]));
  });

  it('weighted sums (nominal, muon SF and pileup variations) equal a naive loop', async () => {
    const out = await run<Weighted>(
      'zmumu-weighted.ts',
      [ds('DoubleMuon', sharedPath('data', 'nano_dimuon.root')), ds('DYJetsToLL', sharedPath('data', 'nano_dy.root'))],
      15,
    );
    const dimuonEvents = await parquetEvents('nano_dimuon.parquet');
    const dyEvents = await parquetEvents('nano_dy.parquet');
    expect((out.mass.axis('dataset') as unknown as { categories: string[] }).categories).toEqual([
      'DoubleMuon',
      'DYJetsToLL',
    ]);
    const dyNaive = naiveWeighted(dyEvents);
    expect(Object.keys(dyNaive)).toContain('pileupUp');
    expectWeighted(out.mass, 'DoubleMuon', naiveWeighted(dimuonEvents));
    expectWeighted(out.mass, 'DYJetsToLL', dyNaive);
    expect(out.sumw.DoubleMuon).toBe(dimuonEvents.length);
    expect(out.sumw.DYJetsToLL).toBeCloseTo(
      dyEvents.reduce((a, e) => a + e.genWeight!, 0),
      3,
    );
  });
});

describe('zmumu on the synthetic sample', () => {
  let dir: string;
  let file: string;
  let events: Event[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ristretto-zmumu-'));
    file = join(dir, 'demo.parquet');
    const cols = generateEvents(20_000, { seed: 11 });
    await writeParquet(cols, file);
    events = synthEvents(cols);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('cutflow and weighted sums equal a naive loop over the generated columns', async () => {
    const flow = await run<Cutflow>('zmumu.ts', [ds('demo', file)], 6000);
    const naive = naiveCutflow(events);
    expect(flow.cutflow.demo).toEqual(naive.cutflow);
    expect(flow.onecut.demo).toEqual(naive.onecut);
    expect(naive.cutflow.massWindow).toBeGreaterThan(1000);
    expect([...flow.mass.values({ flow: true })]).toEqual(massCounts(naive.masses));

    const weighted = await run<Weighted>('zmumu-weighted.ts', [ds('demo', file)], 6000);
    expectWeighted(weighted.mass, 'demo', naiveWeighted(events));
  });
});
