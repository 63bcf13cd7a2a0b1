import { describe, expect, it } from 'vitest';
import { buildNanoSchema, globalIndex, runOnEvents } from '../../src/events/index.ts';
import type { BranchInfo } from '../../src/io/reader.ts';
import { MemoryReader, toyBranches, toyEvents } from './memory-reader.ts';

const EVENTS = toyEvents(300, 11);

describe('NanoAOD schema', () => {
  const schema = buildNanoSchema(new MemoryReader('mem://toy', toyBranches(EVENTS)).branches());

  it('groups collections, records and plain branches', () => {
    expect([...schema.collections.keys()].sort()).toEqual(['GenPart', 'Jet', 'Muon']);
    expect([...schema.records.keys()].sort()).toEqual(['HLT', 'MET']);
    expect([...schema.plain.keys()].sort()).toEqual([
      'LHEPdfWeight',
      'event',
      'nGenPart',
      'nJet',
      'nLHEPdfWeight',
      'nMuon',
      'run',
    ]);
    expect(schema.collections.get('Muon')!.countBranch).toBe('nMuon');
    expect([...schema.collections.get('Muon')!.fields.keys()]).toEqual([
      'pt',
      'eta',
      'phi',
      'mass',
      'charge',
      'jetIdx',
    ]);
  });

  it('marks four-vector collections and resolves links', () => {
    expect(schema.collections.get('Muon')!.kind).toBe('PtEtaPhiM');
    expect(schema.collections.get('GenPart')!.kind).toBeUndefined();
    expect(Object.fromEntries(schema.collections.get('Jet')!.links)).toEqual({ muonIdx1: 'Muon' });
    expect(Object.fromEntries(schema.collections.get('GenPart')!.links)).toEqual({ genPartIdxMother: 'GenPart' });
  });

  it('uses a jagged branch’s countBranch when there is no nX, and leaves unknown link targets unlinked', () => {
    const b = (
      name: string,
      kind: 'flat' | 'jagged',
      dtype: BranchInfo['dtype'],
      countBranch?: string,
    ): BranchInfo => ({
      name,
      kind,
      dtype,
      ...(countBranch ? { countBranch } : {}),
    });
    const s = buildNanoSchema([
      b('NMuon', 'flat', 'int32'),
      b('Muon_Px', 'jagged', 'float32', 'NMuon'),
      b('Muon_Py', 'jagged', 'float32', 'NMuon'),
      b('Muon_Pz', 'jagged', 'float32', 'NMuon'),
      b('Muon_E', 'jagged', 'float32', 'NMuon'),
      b('Muon_genPartIdx', 'jagged', 'int32', 'NMuon'),
      b('Muon_ptIdx', 'jagged', 'float32', 'NMuon'),
    ]);
    const mu = s.collections.get('Muon')!;
    expect(mu.countBranch).toBe('NMuon');
    expect(mu.kind).toBe('PxPyPzE');
    expect(mu.links.size).toBe(0);
  });

  it('keeps strings and lists of lists out of records (they are not flat columns)', () => {
    const s = buildNanoSchema([
      { name: 'evt_run', kind: 'flat', dtype: 'int32' },
      { name: 'evt_tag', kind: 'string', dtype: 'uint8' },
      { name: 'hits_xy', kind: 'jagged2', dtype: 'float64' },
    ] as unknown as BranchInfo[]);
    expect([...s.records.get('evt')!.fields.keys()]).toEqual(['run']);
    expect(s.records.has('hits')).toBe(false);
    expect(s.collections.has('hits')).toBe(false);
  });
});

describe('collections', () => {
  const reader = () => new MemoryReader('mem://toy', toyBranches(EVENTS));

  it('exposes fields as Jagged sharing the collection offsets, and as Collection fields', async () => {
    const { result } = await runOnEvents(reader(), 0, EVENTS.length, (e) => {
      const mu = e.Muon;
      return {
        offsets: mu.offsets,
        pt: mu.pt,
        eta: mu.eta,
        fieldsPt: mu.fields.pt,
        counts: mu.counts,
        kind: mu.kind,
        four: mu.isFourVector,
        names: mu.fieldNames,
      };
    });
    expect(result.pt.offsets).toBe(result.offsets);
    expect(result.eta.offsets).toBe(result.offsets);
    expect(result.fieldsPt).toBe(result.pt.content);
    expect(Array.from(result.counts)).toEqual(EVENTS.map((e) => e.muons.length));
    expect(Array.from(result.pt.content)).toEqual(EVENTS.flatMap((e) => e.muons.map((m) => m.pt)));
    expect(result.kind).toBe('PtEtaPhiM');
    expect(result.four).toBe(true);
    expect(result.names).toEqual(['pt', 'eta', 'phi', 'mass', 'charge', 'jetIdx']);
  });

  it('reads counts alone from the counts branch, and plain jagged branches as they are', async () => {
    const r = reader();
    const out = await runOnEvents(r, 10, 60, (e) => ({
      counts: Array.from(e.Jet.counts),
      pdf: e.column('LHEPdfWeight'),
    }));
    expect(out.columnsRead).toEqual(['LHEPdfWeight', 'nJet']);
    expect(out.result.counts).toEqual(EVENTS.slice(10, 60).map((e) => e.jets.length));
    const pdf = out.result.pdf as { offsets: Int32Array; content: Float32Array };
    expect(Array.from(pdf.content.subarray(pdf.offsets[0], pdf.offsets[50]))).toEqual(
      EVENTS.slice(10, 60).flatMap((e) => e.pdfWeights),
    );
  });

  it('absorbs readers whose offsets point into a larger buffer', async () => {
    const r = reader();
    r.shiftOffsets = 3;
    const { result } = await runOnEvents(r, 5, 80, (e) => {
      // nMuon first: the collection offsets come from the counts (starting at 0), the fields are shifted.
      const counts = e.Muon.counts;
      const pt = e.Muon.pt;
      const jetPt = e.Jet.pt;
      return { counts, pt, jetPt };
    });
    expect(result.pt.offsets[0]).toBe(0);
    expect(Array.from(result.pt.content.subarray(0, result.pt.offsets[75]))).toEqual(
      EVENTS.slice(5, 80).flatMap((e) => e.muons.map((m) => m.pt)),
    );
    expect(result.jetPt.offsets[0]).toBe(3);
    expect(result.jetPt.content[result.jetPt.offsets[0]]).toBe(
      EVENTS.slice(5, 80).flatMap((e) => e.jets.map((j) => j.pt))[0],
    );
  });

  it('gives global indices for links: Jet → matched muon pt, GenPart → mother pdgId', async () => {
    const start = 17;
    const stop = 250;
    const { result, columnsRead } = await runOnEvents(reader(), start, stop, (e) => {
      const g = e.Jet.muonIdx1G.content;
      const muPt = e.Muon.pt.content;
      const matched = new Float64Array(g.length);
      for (let j = 0; j < g.length; j++) matched[j] = g[j] >= 0 ? muPt[g[j]] : NaN;
      const m = e.GenPart.genPartIdxMotherG.content;
      const pdg = e.GenPart.pdgId.content;
      const motherPdg = new Float64Array(m.length);
      for (let k = 0; k < m.length; k++) motherPdg[k] = m[k] >= 0 ? pdg[m[k]] : 0;
      return { matched: Array.from(matched), motherPdg: Array.from(motherPdg), links: e.Jet.links };
    });
    // Naive: per event, per jet, look up the muon list of the same event.
    const naiveMatched: number[] = [];
    const naiveMother: number[] = [];
    for (const ev of EVENTS.slice(start, stop)) {
      for (const j of ev.jets)
        naiveMatched.push(j.muonIdx1 >= 0 && j.muonIdx1 < ev.muons.length ? ev.muons[j.muonIdx1].pt : NaN);
      for (const gp of ev.gen) naiveMother.push(gp.mother >= 0 ? ev.gen[gp.mother].pdgId : 0);
    }
    expect(result.matched).toEqual(naiveMatched);
    expect(result.motherPdg).toEqual(naiveMother);
    expect(naiveMatched.some((x) => Number.isNaN(x))).toBe(true); // the sample has unmatched and stale indices
    expect(result.links).toEqual({ muonIdx1: 'Muon' });
    expect(columnsRead).toEqual(['GenPart_genPartIdxMother', 'GenPart_pdgId', 'Jet_muonIdx1', 'Muon_pt', 'nMuon']);
  });
});

describe('inconsistent readers', () => {
  it('refuses fields of one collection whose counts disagree, naming the branch and the entry', async () => {
    const data = toyBranches(EVENTS);
    const eta = (data.Muon_eta.values as number[][]).map((l) => [...l]);
    eta[42].push(0.5);
    data.Muon_eta = { ...data.Muon_eta, values: eta };
    const r = new MemoryReader('mem://bad', data);
    const err = await runOnEvents(r, 0, 100, (e) => e.Muon.pt.content.length + e.Muon.eta.content.length).catch(
      (x: unknown) => x,
    );
    expect((err as Error).name).toBe('ColumnShapeMismatchError');
    expect((err as Error).message).toMatch(
      /column Muon_eta from mem:\/\/bad tree Events .*differ from collection Muon's \(from Muon_pt\) at entry 42/,
    );
  });
});

describe('globalIndex', () => {
  it('maps local indices through target offsets and turns negative or stale ones into -1', () => {
    const local = { offsets: Int32Array.from([0, 2, 2, 5]), content: Int32Array.from([1, -1, 0, 2, 3]) };
    const target = Int32Array.from([0, 3, 4, 7]);
    expect(Array.from(globalIndex(local, target))).toEqual([1, -1, 4, 6, -1]);
  });

  it('refuses offsets over different event counts', () => {
    expect(() =>
      globalIndex({ offsets: Int32Array.from([0, 1]), content: Int32Array.from([0]) }, Int32Array.from([0, 1, 2])),
    ).toThrow(/globalIndex: the target collection \(events\) has length 2, expected 1/);
  });
});
