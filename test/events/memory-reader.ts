/**
 * An in-memory EventReader over per-event JS objects, for testing the events layer against the reader
 * contract without a file format. Columns are built from the objects with naive loops, every read is
 * logged (`reads`; `syncReads` for the ones made with `readSync`), and `bytesRead` counts the bytes of
 * the arrays handed out.
 */
import type { NumericArray } from '../../src/columnar/types.ts';
import type { BranchInfo, Column, DType, EventReader } from '../../src/io/reader.ts';
import { rng } from '../helpers/rng.ts';

export interface MemBranch {
  dtype: DType;
  /** Flat: one value per event. Jagged: one list per event. */
  values: number[] | number[][];
  countBranch?: string;
}

const CTORS: Record<DType, new (n: number) => NumericArray> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: Float64Array,
  uint64: Float64Array,
  float32: Float32Array,
  float64: Float64Array,
};

export class MemoryReader implements EventReader {
  readonly treeName = 'Events';
  readonly numEntries: number;
  bytesRead = 0;
  /** One entry per `read` or `readSync` call: the names asked for. */
  readonly reads: string[][] = [];
  /** One entry per `readSync` call. */
  readonly syncReads: string[][] = [];
  /** When set, jagged columns come with offsets shifted by this many leading junk elements. */
  shiftOffsets = 0;

  constructor(
    readonly path: string,
    private readonly data: Record<string, MemBranch>,
  ) {
    const first = Object.values(data)[0];
    this.numEntries = first ? first.values.length : 0;
  }

  branches(): readonly BranchInfo[] {
    return Object.entries(this.data).map(([name, b]) => ({
      name,
      kind: Array.isArray(b.values[0]) ? 'jagged' : 'flat',
      dtype: b.dtype,
      ...(b.countBranch !== undefined ? { countBranch: b.countBranch } : {}),
    }));
  }

  boundaries(): readonly number[] {
    return [0, this.numEntries];
  }

  async read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    const out = this.columns(names, entryStart, entryStop);
    await Promise.resolve();
    return out;
  }

  readSync(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    this.syncReads.push([...names]);
    return this.columns(names, entryStart, entryStop);
  }

  private columns(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    this.reads.push([...names]);
    const out: Record<string, Column> = {};
    for (const name of names) {
      const b = this.data[name];
      if (!b) throw new Error(`MemoryReader: no branch ${name}`);
      const Ctor = CTORS[b.dtype];
      const rows = b.values.slice(entryStart, entryStop);
      if (Array.isArray(rows[0]) || (rows.length === 0 && Array.isArray(b.values[0]))) {
        const lists = rows as number[][];
        const shift = this.shiftOffsets;
        const offsets = new Int32Array(lists.length + 1);
        let total = shift;
        offsets[0] = shift;
        lists.forEach((l, i) => (offsets[i + 1] = total += l.length));
        const content = new Ctor(total);
        let k = shift;
        for (const l of lists) for (const v of l) content[k++] = v;
        for (let j = 0; j < shift; j++) content[j] = 12345;
        this.bytesRead += offsets.byteLength + content.byteLength;
        out[name] = { offsets, content };
      } else {
        const arr = new Ctor(rows.length);
        (rows as number[]).forEach((v, i) => (arr[i] = v));
        this.bytesRead += arr.byteLength;
        out[name] = arr;
      }
    }
    return out;
  }

  async close(): Promise<void> {}
}

export interface ToyMuon {
  pt: number;
  eta: number;
  phi: number;
  mass: number;
  charge: number;
  jetIdx: number;
}
export interface ToyJet {
  pt: number;
  eta: number;
  phi: number;
  mass: number;
  muonIdx1: number;
}
export interface ToyGen {
  pdgId: number;
  mother: number;
}
export interface ToyEvent {
  run: number;
  event: number;
  metPt: number;
  metPhi: number;
  isoMu24: number;
  muons: ToyMuon[];
  jets: ToyJet[];
  gen: ToyGen[];
  pdfWeights: number[];
}

/** A small NanoAOD-like sample; some link indices are deliberately stale (≥ target count). */
export function toyEvents(n: number, seed = 7): ToyEvent[] {
  const r = rng(seed);
  const f32 = (x: number) => Math.fround(x);
  const events: ToyEvent[] = [];
  for (let i = 0; i < n; i++) {
    const nMu = Math.floor(r() * 4);
    const nJet = Math.floor(r() * 5);
    const nGen = Math.floor(r() * 6);
    const muons = Array.from({ length: nMu }, () => ({
      pt: f32(5 + r() * 60),
      eta: f32(r() * 5 - 2.5),
      phi: f32(r() * 6.28 - 3.14),
      mass: f32(0.1057),
      charge: r() < 0.5 ? -1 : 1,
      jetIdx: Math.floor(r() * (nJet + 2)) - 1,
    }));
    const jets = Array.from({ length: nJet }, () => ({
      pt: f32(15 + r() * 100),
      eta: f32(r() * 6 - 3),
      phi: f32(r() * 6.28 - 3.14),
      mass: f32(r() * 20),
      muonIdx1: Math.floor(r() * (nMu + 2)) - 1,
    }));
    const gen = Array.from({ length: nGen }, (_, k) => ({
      pdgId: [1, -1, 13, -13, 23, 21][Math.floor(r() * 6)],
      mother: k === 0 ? -1 : Math.floor(r() * k),
    }));
    events.push({
      run: 194000 + Math.floor(i / 10),
      event: 1000 + i,
      metPt: f32(r() * 80),
      metPhi: f32(r() * 6.28 - 3.14),
      isoMu24: r() < 0.3 ? 1 : 0,
      muons,
      jets,
      gen,
      pdfWeights: Array.from({ length: 3 }, () => f32(r())),
    });
  }
  return events;
}

/** The toy sample as NanoAOD-flat branches (the shape a ROOT or Parquet reader would expose). */
export function toyBranches(ev: ToyEvent[]): Record<string, MemBranch> {
  const mu = (k: keyof ToyMuon) => ev.map((e) => e.muons.map((m) => m[k]));
  const jet = (k: keyof ToyJet) => ev.map((e) => e.jets.map((j) => j[k]));
  return {
    run: { dtype: 'int32', values: ev.map((e) => e.run) },
    event: { dtype: 'int64', values: ev.map((e) => e.event) },
    HLT_IsoMu24: { dtype: 'bool', values: ev.map((e) => e.isoMu24) },
    MET_pt: { dtype: 'float32', values: ev.map((e) => e.metPt) },
    MET_phi: { dtype: 'float32', values: ev.map((e) => e.metPhi) },
    nMuon: { dtype: 'int32', values: ev.map((e) => e.muons.length) },
    Muon_pt: { dtype: 'float32', values: mu('pt'), countBranch: 'nMuon' },
    Muon_eta: { dtype: 'float32', values: mu('eta'), countBranch: 'nMuon' },
    Muon_phi: { dtype: 'float32', values: mu('phi'), countBranch: 'nMuon' },
    Muon_mass: { dtype: 'float32', values: mu('mass'), countBranch: 'nMuon' },
    Muon_charge: { dtype: 'int32', values: mu('charge'), countBranch: 'nMuon' },
    Muon_jetIdx: { dtype: 'int32', values: mu('jetIdx'), countBranch: 'nMuon' },
    nJet: { dtype: 'int32', values: ev.map((e) => e.jets.length) },
    Jet_pt: { dtype: 'float32', values: jet('pt'), countBranch: 'nJet' },
    Jet_eta: { dtype: 'float32', values: jet('eta'), countBranch: 'nJet' },
    Jet_phi: { dtype: 'float32', values: jet('phi'), countBranch: 'nJet' },
    Jet_mass: { dtype: 'float32', values: jet('mass'), countBranch: 'nJet' },
    Jet_muonIdx1: { dtype: 'int32', values: jet('muonIdx1'), countBranch: 'nJet' },
    nGenPart: { dtype: 'int32', values: ev.map((e) => e.gen.length) },
    GenPart_pdgId: { dtype: 'int32', values: ev.map((e) => e.gen.map((g) => g.pdgId)), countBranch: 'nGenPart' },
    GenPart_genPartIdxMother: {
      dtype: 'int32',
      values: ev.map((e) => e.gen.map((g) => g.mother)),
      countBranch: 'nGenPart',
    },
    nLHEPdfWeight: { dtype: 'int32', values: ev.map((e) => e.pdfWeights.length) },
    LHEPdfWeight: { dtype: 'float32', values: ev.map((e) => e.pdfWeights), countBranch: 'nLHEPdfWeight' },
  };
}
