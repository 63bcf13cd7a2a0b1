/** The events layer over the real ROOT files: Run2012B SingleMu (vs Parquet) and full NanoAOD nano_dy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nanoSchemaOf, runOnEvents } from '../../src/events/index.ts';
import type { Events } from '../../src/events/index.ts';
import type { Jagged, NumericArray } from '../../src/columnar/types.ts';
import { openParquet } from '../../src/io/parquet/index.ts';
import type { EventReader } from '../../src/io/reader.ts';
import { openRoot } from '../../src/io/root/index.ts';
import { sharedPath } from '../shared.ts';
import { flatRows, naiveSingleMu, singleMu } from './singlemu-processor.ts';

describe('Run2012B SingleMu: ROOT vs Parquet', () => {
  let root: EventReader;
  let flat: EventReader;
  let nested: EventReader;
  beforeAll(async () => {
    root = await openRoot(sharedPath('data', 'Run2012B_SingleMu_10000.root'));
    flat = await openParquet(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'));
    nested = await openParquet(sharedPath('data', 'Run2012B_SingleMu-restructured-1000.parquet'));
  });
  afterAll(async () => {
    await Promise.all([root?.close(), flat?.close(), nested?.close()]);
  });

  it('the same processor gives identical results on the first 1,000 events of all three files', async () => {
    const fromRoot = await runOnEvents(root, 0, 1000, singleMu);
    const fromFlat = await runOnEvents(flat, 0, 1000, singleMu);
    const fromNested = await runOnEvents(nested, 0, 1000, singleMu);
    expect(fromRoot.result).toEqual(fromFlat.result);
    expect(fromRoot.result).toEqual(fromNested.result);
    expect(fromRoot.result).toEqual(
      naiveSingleMu(await flatRows(sharedPath('data', 'Run2012B_SingleMu-1000.parquet'), 0, 1000)),
    );
    expect(fromRoot.columnsRead).toEqual(fromFlat.columnsRead);
  });

  it('does not link indices to a collection the file lacks', async () => {
    const { result } = await runOnEvents(root, 0, 10, (e) => [
      'jetIdxG' in e.Muon,
      'genPartIdxG' in e.Muon,
      e.Muon.links,
    ]);
    expect(result).toEqual([true, false, { jetIdx: 'Jet' }]);
  });

  it('reads a later chunk of the 10,000-event file with prefetch, all up front', async () => {
    const first = await runOnEvents(root, 0, 1000, singleMu);
    expect(first.columnsReadOnAccess).toEqual(first.columnsRead);
    const later = await runOnEvents(root, 7000, 8000, singleMu, { prefetch: first.columnsRead });
    expect(later.columnsReadOnAccess).toEqual([]);
    expect(later.result.sumMet).toBeGreaterThan(0);
  });
});

describe('nano_dy.root: full NanoAOD schema and cross-references', () => {
  let root: EventReader;
  let parquet: EventReader;
  beforeAll(async () => {
    root = await openRoot(sharedPath('data', 'nano_dy.root'));
    parquet = await openParquet(sharedPath('data', 'nano_dy.parquet'));
  });
  afterAll(async () => {
    await Promise.all([root?.close(), parquet?.close()]);
  });

  it('maps the real branch names to collections, records, plain columns and links', () => {
    const s = nanoSchemaOf(root);
    for (const c of [
      'Jet',
      'Muon',
      'Electron',
      'Photon',
      'Tau',
      'GenPart',
      'FatJet',
      'SubJet',
      'FsrPhoton',
      'GenJet',
      'GenVisTau',
      'TrigObj',
    ]) {
      expect(s.collections.has(c), c).toBe(true);
    }
    for (const r of ['MET', 'HLT', 'Flag', 'PV', 'L1', 'Generator']) expect(s.records.has(r), r).toBe(true);
    for (const p of ['run', 'event', 'luminosityBlock', 'nJet', 'genWeight', 'LHEPdfWeight'])
      expect(s.plain.has(p), p).toBe(true);
    const links = (c: string) => Object.fromEntries(s.collections.get(c)!.links);
    expect(links('Jet')).toEqual({
      electronIdx1: 'Electron',
      electronIdx2: 'Electron',
      muonIdx1: 'Muon',
      muonIdx2: 'Muon',
      genJetIdx: 'GenJet',
    });
    expect(links('GenPart')).toEqual({ genPartIdxMother: 'GenPart' });
    expect(links('Muon')).toEqual({ jetIdx: 'Jet', fsrPhotonIdx: 'FsrPhoton', genPartIdx: 'GenPart' });
    expect(links('Electron')).toEqual({ jetIdx: 'Jet', photonIdx: 'Photon', genPartIdx: 'GenPart' });
    expect(links('FatJet')).toMatchObject({ subJetIdx1: 'SubJet', subJetIdx2: 'SubJet' });
    expect(links('FsrPhoton')).toEqual({ muonIdx: 'Muon' });
    expect(links('GenVisTau')).toEqual({ genPartIdxMother: 'GenPart' });
    expect(s.collections.get('Jet')!.kind).toBe('PtEtaPhiM');
    expect(s.collections.get('GenPart')!.kind).toBe('PtEtaPhiM');
    expect(s.collections.get('Jet')!.countBranch).toBe('nJet');
  });

  /** Jet → pt of muonIdx1's muon, GenPart → pdgId of its mother, Electron → its GenPart's pdgId. */
  const linked = (e: Events) => {
    const gather = (idx: NumericArray, values: NumericArray, none: number) =>
      Array.from(idx, (g) => (g >= 0 ? values[g] : none));
    return {
      jetMuonPt: gather(e.Jet.muonIdx1G.content, e.Muon.pt.content, NaN),
      motherPdg: gather(e.GenPart.genPartIdxMotherG.content, e.GenPart.pdgId.content, 0),
      electronGenPdg: gather(e.Electron.genPartIdxG.content, e.GenPart.pdgId.content, 0),
      hlt: Array.from(e.HLT.IsoMu24),
      met: Array.from(e.MET.pt),
    };
  };

  it('cross-references agree with a naive per-event loop over the raw branches', async () => {
    const n = root.numEntries;
    const { result } = await runOnEvents(root, 0, n, linked);
    const raw = await root.read(
      [
        'nJet',
        'Jet_muonIdx1',
        'nMuon',
        'Muon_pt',
        'nGenPart',
        'GenPart_genPartIdxMother',
        'GenPart_pdgId',
        'nElectron',
        'Electron_genPartIdx',
      ],
      0,
      n,
    );
    const cnt = (b: string) => raw[b] as NumericArray;
    const jag = (b: string) => raw[b] as Jagged;
    // Walk events with running cursors built from the counts branches only.
    const at = (b: string, k: number) => jag(b).content[jag(b).offsets[0] + k];
    const naiveJetMuonPt: number[] = [];
    const naiveMother: number[] = [];
    const naiveElGen: number[] = [];
    let j0 = 0,
      m0 = 0,
      g0 = 0,
      e0 = 0;
    for (let i = 0; i < n; i++) {
      const nj = cnt('nJet')[i],
        nm = cnt('nMuon')[i],
        ng = cnt('nGenPart')[i],
        ne = cnt('nElectron')[i];
      for (let j = 0; j < nj; j++) {
        const k = at('Jet_muonIdx1', j0 + j);
        naiveJetMuonPt.push(k >= 0 && k < nm ? at('Muon_pt', m0 + k) : NaN);
      }
      for (let g = 0; g < ng; g++) {
        const k = at('GenPart_genPartIdxMother', g0 + g);
        naiveMother.push(k >= 0 && k < ng ? at('GenPart_pdgId', g0 + k) : 0);
      }
      for (let el = 0; el < ne; el++) {
        const k = at('Electron_genPartIdx', e0 + el);
        naiveElGen.push(k >= 0 && k < ng ? at('GenPart_pdgId', g0 + k) : 0);
      }
      j0 += nj;
      m0 += nm;
      g0 += ng;
      e0 += ne;
    }
    expect(result.jetMuonPt).toEqual(naiveJetMuonPt);
    expect(result.motherPdg).toEqual(naiveMother);
    expect(result.electronGenPdg).toEqual(naiveElGen);
    // The sample really exercises the links: matched jets, mothers, and generator-matched electrons.
    expect(naiveJetMuonPt.filter((x) => !Number.isNaN(x)).length).toBeGreaterThan(0);
    expect(naiveMother.filter((x) => x !== 0).length).toBeGreaterThan(100);
    expect(naiveElGen.some((x) => Math.abs(x) === 11)).toBe(true);
  });

  it('gives identical results from nano_dy.parquet, reading the same branches', async () => {
    const a = await runOnEvents(root, 0, root.numEntries, linked);
    const b = await runOnEvents(parquet, 0, parquet.numEntries, linked);
    expect(b.result).toEqual(a.result);
    expect(b.columnsRead).toEqual(a.columnsRead);
    expect(a.columnsRead.length).toBeLessThan(12);
  });

  it('reads only what a processor touches out of ~1,500 branches', async () => {
    const out = await runOnEvents(root, 5, 35, (e) => e.Muon.pt.content.length + e.HLT.IsoMu24.length);
    expect(out.columnsRead).toEqual(['HLT_IsoMu24', 'Muon_pt']);
    expect(out.columnsReadOnAccess).toEqual(['HLT_IsoMu24', 'Muon_pt']);
  });
});
