/**
 * Real `src/hist` histograms through accumulate and the codec. Expected bins come from a naive binning
 * loop written here, with values kept away from bin edges so rounding cannot move them.
 */
import { describe, expect, it } from 'vitest';
import { MergeError, accumulate, decode, encode, merged } from '../../src/accumulate/index.ts';
import { Hist, Regular, StrCategory, Weight } from '../../src/hist/index.ts';

const NX = 10;
const NY = 4;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Events whose x in [0, 10) and y in [0, 4) sit inside a bin (never within 0.1 of an edge). */
function events(seed: number, n: number): { x: Float64Array; y: Float64Array; w: Float64Array } {
  const r = rng(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = Math.floor(r() * NX) + 0.1 + 0.8 * r();
    y[i] = Math.floor(r() * NY) + 0.1 + 0.8 * r();
    w[i] = 0.25 + Math.floor(r() * 8) / 4;
  }
  return { x, y, w };
}

function filled(seed: number, n: number): Hist {
  const h = new Hist(new Regular(NX, 0, NX, { name: 'x' }), new Regular(NY, 0, NY, { name: 'y' }), {
    storage: new Weight(),
    name: 'mass',
    metadata: { unit: 'GeV' },
  });
  const e = events(seed, n);
  h.fill(e.x, e.y, { weight: e.w });
  return h;
}

/** Naive per-event Σw and Σw² per (x, y) bin, row-major with y fastest, no flow bins. */
function naive(seeds: number[], n: number): { sumw: Float64Array; sumw2: Float64Array } {
  const sumw = new Float64Array(NX * NY);
  const sumw2 = new Float64Array(NX * NY);
  for (const s of seeds) {
    const e = events(s, n);
    for (let i = 0; i < n; i++) {
      const b = Math.floor(e.x[i]) * NY + Math.floor(e.y[i]);
      sumw[b] += e.w[i];
      sumw2[b] += e.w[i] * e.w[i];
    }
  }
  return { sumw, sumw2 };
}

describe('src/hist Hist through accumulate and encode/decode', () => {
  it('merges nested outputs of real histograms in place and matches a naive binning', () => {
    let total: Record<string, unknown> | null = null;
    const seeds = [1, 2, 3, 4];
    const inputs = seeds.map((s) => ({ muons: { mass: filled(s, 500) }, nevents: 500 }));
    for (const out of inputs) total = accumulate(total, out);
    const t = total as { muons: { mass: Hist }; nevents: number };
    const ref = naive(seeds, 500);
    expect(t.nevents).toBe(2000);
    // Weights are multiples of 1/4, so every sum is exact regardless of the order of additions.
    expect(t.muons.mass.values()).toEqual(ref.sumw);
    expect(t.muons.mass.variances()).toEqual(ref.sumw2);
    expect(t.muons.mass.entries).toBe(2000);
    // The first output was copied into the total, not adopted: inputs are unchanged.
    expect(inputs[0].muons.mass.values()).toEqual(naive([1], 500).sumw);
  });

  it('round-trips a Hist exactly and merges decoded chunk outputs like the threads path does', () => {
    const h = filled(7, 300);
    const back = decode(encode({ h })) as { h: Hist };
    expect(back.h).toBeInstanceOf(Hist);
    expect(back.h.values({ flow: true })).toEqual(h.values({ flow: true }));
    expect(back.h.variances({ flow: true })).toEqual(h.variances({ flow: true }));
    expect(back.h.entries).toBe(h.entries);
    expect(back.h.storage.kind).toBe('weight');
    expect(back.h.name).toBe('mass');
    expect(back.h.metadata).toEqual({ unit: 'GeV' });
    expect(back.h.axes.map((a) => [a.name, a.kind, a.size])).toEqual([
      ['x', 'regular', NX],
      ['y', 'regular', NY],
    ]);
    expect(encode(back)).toEqual(encode({ h }));

    let total: unknown = null;
    for (const s of [11, 12, 13]) total = accumulate(total, decode(encode({ h: filled(s, 200) })));
    const ref = naive([11, 12, 13], 200);
    expect((total as { h: Hist }).h.values()).toEqual(ref.sumw);
  });

  it('unions growing category axes across chunks', () => {
    const chunk = (dataset: string, x: number[]) => {
      const h = new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(NX, 0, NX, { name: 'x' }));
      h.fill(dataset, Float64Array.from(x));
      return { h };
    };
    const total = merged(chunk('DY', [1.5, 2.5]), merged(chunk('TT', [3.5]), chunk('DY', [1.5])));
    const cats = total.h.axes[0] as StrCategory;
    expect([...cats.categories].sort()).toEqual(['DY', 'TT']);
    const v = total.h.values();
    const row = (name: string) =>
      Array.from(v.subarray(cats.categories.indexOf(name) * NX, (cats.categories.indexOf(name) + 1) * NX));
    expect(row('DY')).toEqual([0, 2, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(row('TT')).toEqual([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('reports an incompatible Hist or a type mismatch with the key path', () => {
    const other = new Hist(new Regular(NX + 1, 0, NX, { name: 'x' }), new Regular(NY, 0, NY, { name: 'y' }), {
      storage: new Weight(),
      name: 'mass',
    });
    expect(() => merged({ muons: { mass: filled(1, 10) } }, { muons: { mass: other } })).toThrow(
      /at "muons\/mass": cannot merge Hist with Hist: cannot merge histograms: axis 0 'x'/,
    );
    expect(() => merged<unknown>({ muons: { pt: filled(1, 10) } }, { muons: { pt: 3 } })).toThrow(MergeError);
    expect(() => merged<unknown>({ muons: { pt: filled(1, 10) } }, { muons: { pt: 3 } })).toThrow(
      /^at "muons\/pt": cannot merge Hist with number/,
    );
  });
});
