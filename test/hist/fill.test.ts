import { describe, expect, it } from 'vitest';
import {
  BooleanAxis,
  FillError,
  Hist,
  Int64,
  IntCategory,
  Integer,
  Mean,
  Regular,
  StrCategory,
  Variable,
  Weight,
  WeightedMean,
} from '../../src/hist/index.ts';
import { close, linspace, naiveBin, naiveLocal, naiveMean, rng } from './naive.ts';

/** Random values spread over and beyond [lo, hi), with NaN, ±Infinity and exact edges mixed in. */
function values(n: number, lo: number, hi: number, seed: number): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  const span = hi - lo;
  for (let i = 0; i < n; i++) out[i] = lo - 0.2 * span + 1.4 * span * r();
  const specials = [NaN, Infinity, -Infinity, lo, hi, lo + span / 2, -0];
  for (let i = 0; i < n; i += 97) out[i] = specials[(i / 97) % specials.length];
  return out;
}

describe('1-D fill against a naive per-entry loop', () => {
  it('Regular Double: every bin including flow, NaN in overflow, across chunk boundaries', () => {
    const x = values(30_011, 0, 200, 1);
    const h = new Hist(new Regular(100, 0, 200));
    h.fill(x);
    const edges = linspace(100, 0, 200);
    const expected = new Array<number>(102).fill(0);
    for (const v of x) expected[naiveLocal(naiveBin(v, edges), 100)!] += 1;
    expect(Array.from(h.values({ flow: true }))).toEqual(expected);
    expect(Array.from(h.values())).toEqual(expected.slice(1, 101));
    expect(h.entries).toBe(x.length);
    const nans = Array.from(x).filter((v) => Number.isNaN(v)).length;
    expect(nans).toBeGreaterThan(10);
    expect(h.values({ flow: true })[101]).toBeGreaterThanOrEqual(nans);
  });

  it('Float32 input bins like its float64 value', () => {
    const x = Float32Array.from(values(5000, 15, 60, 2));
    const h = new Hist(new Regular(100, 15, 60));
    h.fill(x);
    const edges = linspace(100, 15, 60);
    const expected = new Array<number>(102).fill(0);
    for (const v of x) expected[naiveLocal(naiveBin(v, edges), 100)!] += 1;
    expect(Array.from(h.values({ flow: true }))).toEqual(expected);
  });

  it('axes without flow bins drop out-of-range entries (and NaN)', () => {
    const x = values(4000, -1, 1, 3);
    for (const [underflow, overflow] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const h = new Hist(new Regular(10, -1, 1, { underflow, overflow }));
      h.fill(x);
      const edges = linspace(10, -1, 1);
      const expected = new Array<number>(10 + (underflow ? 1 : 0) + (overflow ? 1 : 0)).fill(0);
      for (const v of x) {
        const l = naiveLocal(naiveBin(v, edges), 10, underflow, overflow);
        if (l !== null) expected[l] += 1;
      }
      expect(Array.from(h.values({ flow: true }))).toEqual(expected);
    }
  });

  it('Regular with log transform', () => {
    const r = rng(4);
    const x = Float64Array.from({ length: 3000 }, () => Math.exp(-1 + 8 * r()));
    x[0] = 0;
    x[1] = -5;
    const h = new Hist(new Regular(20, 1, 1000, { transform: 'log' }));
    h.fill(x);
    const edges = Array.from({ length: 21 }, (_, i) =>
      Math.exp(Math.log(1) + ((Math.log(1000) - Math.log(1)) * i) / 20),
    );
    edges[20] = 1000;
    const expected = new Array<number>(22).fill(0);
    // log(negative) is NaN: boost-histogram sends those to overflow too
    for (const v of x) expected[naiveLocal(naiveBin(v < 0 ? NaN : v, edges), 20)!] += 1;
    expect(Array.from(h.values({ flow: true }))).toEqual(expected);
    expect(h.axes[0].kind === 'regular' && Array.from(h.axes[0].edges).every((e, i) => close(e, edges[i]))).toBe(true);
  });

  it('log axes bin every edge value into the bin it opens, as the published edges say', () => {
    const axis = new Regular(6, 1, 1e6, { transform: 'log' });
    const e = Array.from(axis.edges);
    const h = new Hist(axis).fill(e);
    // edge i opens bin i (local i + 1); the upper edge goes to overflow
    expect(Array.from(h.values({ flow: true }))).toEqual([0, 1, 1, 1, 1, 1, 1, 1]);
    e.forEach((v, i) => expect(axis.bin(v)).toBe(i));
    const below = e.map((v) => v * (1 - 1e-15));
    expect(Array.from(new Hist(axis).fill(below).values({ flow: true }))).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);
  });

  it('Variable and Integer axes', () => {
    const edges = [-3, -1, 0, 0.5, 2, 10];
    const x = values(5000, -4, 12, 5);
    const hv = new Hist(new Variable(edges));
    hv.fill(x);
    const ev = new Array<number>(7).fill(0);
    for (const v of x) ev[naiveLocal(naiveBin(v, edges), 5)!] += 1;
    expect(Array.from(hv.values({ flow: true }))).toEqual(ev);

    const hi = new Hist(new Integer(-2, 5));
    const xi = values(5000, -4, 8, 6);
    hi.fill(xi);
    const ie = [-2, -1, 0, 1, 2, 3, 4, 5];
    const ei = new Array<number>(9).fill(0);
    for (const v of xi) ei[naiveLocal(naiveBin(Math.floor(v), ie), 7)!] += 1;
    expect(Array.from(hi.values({ flow: true }))).toEqual(ei);
  });

  it('weights into Double and Weight storage; variances are Σw² (Weight) or unknown (Double)', () => {
    const x = values(20_000, 0, 10, 7);
    const r = rng(8);
    const w = Float64Array.from(x, () => r() * 2 - 0.5);
    const edges = linspace(10, 0, 10);
    const sw = new Array<number>(12).fill(0);
    const sw2 = new Array<number>(12).fill(0);
    x.forEach((v, i) => {
      const l = naiveLocal(naiveBin(v, edges), 10)!;
      sw[l] += w[i];
      sw2[l] += w[i] * w[i];
    });
    const hd = new Hist(new Regular(10, 0, 10)).fill(x, { weight: w });
    const hw = new Hist(new Regular(10, 0, 10), { storage: new Weight() }).fill(x, { weight: w });
    hd.values({ flow: true }).forEach((v, i) => expect(close(v, sw[i])).toBe(true));
    hw.values({ flow: true }).forEach((v, i) => expect(close(v, sw[i])).toBe(true));
    hw.variances({ flow: true })!.forEach((v, i) => expect(close(v, sw2[i])).toBe(true));
    expect(hd.variances()).toBeNull();
    // effective counts (Σw)²/Σw²
    hw.counts({ flow: true }).forEach((c, i) => expect(close(c, sw2[i] > 0 ? (sw[i] * sw[i]) / sw2[i] : 0)).toBe(true));
    // scalar weight broadcasts; unweighted Weight storage has Σw² = Σw
    const hs = new Hist(new Regular(10, 0, 10), { storage: new Weight() }).fill(x, { weight: 2 });
    const hu = new Hist(new Regular(10, 0, 10), { storage: new Weight() }).fill(x);
    const counts = new Array<number>(12).fill(0);
    for (const v of x) counts[naiveLocal(naiveBin(v, edges), 10)!] += 1;
    expect(Array.from(hs.values({ flow: true }))).toEqual(counts.map((c) => 2 * c));
    expect(Array.from(hs.variances({ flow: true })!)).toEqual(counts.map((c) => 4 * c));
    expect(Array.from(hu.variances({ flow: true })!)).toEqual(counts);
  });

  it('Int64 storage counts exactly and refuses fractional weights', () => {
    const x = values(1000, 0, 1, 9);
    const h = new Hist(new Regular(4, 0, 1), { storage: new Int64() });
    h.fill(x, { weight: 3 });
    const edges = linspace(4, 0, 1);
    const e = new Array<number>(6).fill(0);
    for (const v of x) e[naiveLocal(naiveBin(v, edges), 4)!] += 3;
    expect(Array.from(h.values({ flow: true }))).toEqual(e);
    expect(() => h.fill([0.5, 0.2], { weight: [1, 0.5] })).toThrow(
      /Int64 storage takes integer weights; entry 1 has weight 0.5/,
    );
  });
});

describe('N-D and category fills against a naive loop', () => {
  it('3-D Regular × Variable × Integer with weights, generic path', () => {
    const n = 12_000;
    const x = values(n, 0, 1, 10);
    const y = values(n, -2, 2, 11);
    const z = values(n, 0, 4, 12);
    const r = rng(13);
    const w = Float64Array.from({ length: n }, () => Math.round(r() * 4));
    const ex = linspace(5, 0, 1);
    const ey = [-2, -0.5, 0, 2];
    const ez = [0, 1, 2, 3, 4];
    const h = new Hist(
      new Regular(5, 0, 1),
      new Variable(ey, { underflow: false }),
      new Integer(0, 4, { overflow: false }),
      {
        storage: new Weight(),
      },
    );
    h.fill(x, y, z, { weight: w });
    const shape = [7, 4, 5];
    const expected = new Array<number>(7 * 4 * 5).fill(0);
    for (let i = 0; i < n; i++) {
      const a = naiveLocal(naiveBin(x[i], ex), 5);
      const b = naiveLocal(naiveBin(y[i], ey), 3, false, true);
      const c = naiveLocal(naiveBin(Math.floor(z[i]), ez), 4, true, false);
      if (a === null || b === null || c === null) continue;
      expected[(a * shape[1] + b) * shape[2] + c] += w[i];
    }
    expect(h.shape({ flow: true })).toEqual(shape);
    expect(Array.from(h.values({ flow: true }))).toEqual(expected);
    // without flow: the inner block
    const inner = h.values();
    expect(inner.length).toBe(5 * 3 * 4);
    expect(inner[(2 * 3 + 1) * 4 + 3]).toBe(expected[(3 * 4 + 1) * 5 + 4]);
  });

  it('2-D Regular × Integer (fused path), with and without flow bins, weighted and not', () => {
    const n = 20_000;
    const x = values(n, 0, 10, 16);
    const y = values(n, -2, 3, 17);
    const r = rng(18);
    const w = Float64Array.from({ length: n }, () => Math.round(4 * r()) - 1);
    const ex = linspace(10, 0, 10);
    const ey = [-2, -1, 0, 1, 2, 3];
    for (const [ux, oy] of [
      [true, true],
      [false, false],
    ] as const) {
      const axes = () => [new Regular(10, 0, 10, { underflow: ux }), new Integer(-2, 3, { overflow: oy })] as const;
      const shape = [10 + (ux ? 1 : 0) + 1, 5 + 1 + (oy ? 1 : 0)];
      const counts = new Array<number>(shape[0] * shape[1]).fill(0);
      const sumw = counts.slice();
      const sumw2 = counts.slice();
      for (let i = 0; i < n; i++) {
        const a = naiveLocal(naiveBin(x[i], ex), 10, ux, true);
        const b = naiveLocal(naiveBin(Math.floor(y[i]), ey), 5, true, oy);
        if (a === null || b === null) continue;
        const j = a * shape[1] + b;
        counts[j] += 1;
        sumw[j] += w[i];
        sumw2[j] += w[i] * w[i];
      }
      expect(Array.from(new Hist(...axes()).fill(x, y).values({ flow: true }))).toEqual(counts);
      const hw = new Hist(...axes(), { storage: new Weight() }).fill(x, y, { weight: w });
      expect(Array.from(hw.values({ flow: true }))).toEqual(sumw);
      expect(Array.from(hw.variances({ flow: true })!)).toEqual(sumw2);
      const hu = new Hist(...axes(), { storage: new Weight() }).fill(x, y);
      expect(Array.from(hu.variances({ flow: true })!)).toEqual(counts);
    }
  });

  it('string categories with growth, numbers broadcast, Boolean axis', () => {
    const ds = ['DY', 'tt', 'DY', 'W', 'tt', 'DY'];
    const pass = [true, false, true, true, false, false];
    const pt = [10, 20, 30, 40, 50, 60];
    const h = new Hist(
      new StrCategory([], { name: 'ds', growth: true }),
      new BooleanAxis({ name: 'pass' }),
      new Regular(2, 0, 100),
    );
    h.fill(ds, pass, pt);
    h.fill('W', Uint8Array.from([1, 1]), [99, 150]);
    const cat = h.axes[0];
    expect(cat.kind === 'str_category' && cat.categories).toEqual(['DY', 'tt', 'W']);
    const naive: Record<string, number> = {};
    const key = (d: string, p: boolean, v: number): string =>
      `${d}/${p}/${v < 0 ? 'u' : v >= 100 ? 'o' : Math.floor(v / 50)}`;
    ds.forEach((d, i) => (naive[key(d, pass[i], pt[i])] = (naive[key(d, pass[i], pt[i])] ?? 0) + 1));
    naive[key('W', true, 99)] = (naive[key('W', true, 99)] ?? 0) + 1;
    naive[key('W', true, 150)] = (naive[key('W', true, 150)] ?? 0) + 1;
    const v = h.values({ flow: true });
    expect(h.shape({ flow: true })).toEqual([3, 2, 4]);
    const labels = ['u', '0', '1', 'o'];
    ['DY', 'tt', 'W'].forEach((d, i) =>
      [false, true].forEach((p, j) =>
        labels.forEach((l, k) => expect(v[(i * 2 + j) * 4 + k]).toBe(naive[`${d}/${p}/${l}`] ?? 0)),
      ),
    );
  });

  it('categories without growth send unknown values to the flow bin, or drop them', () => {
    const h = new Hist(new IntCategory([11, 13]));
    h.fill([11, 13, 13, 22, NaN, 11.5]);
    expect(Array.from(h.values({ flow: true }))).toEqual([1, 2, 3]);
    const g = new Hist(new IntCategory([11], { overflow: false }));
    g.fill([11, 13]);
    expect(Array.from(g.values({ flow: true }))).toEqual([1]);
    const grow = new Hist(new IntCategory([], { growth: true }));
    grow.fill(Int32Array.from([5, 3, 5, 7]));
    expect(grow.axes[0].kind === 'int_category' && grow.axes[0].categories).toEqual([5, 3, 7]);
    expect(Array.from(grow.values())).toEqual([2, 1, 1]);
  });

  it('Mean and WeightedMean storages against two-pass statistics', () => {
    const n = 20_000;
    const x = values(n, 0, 3, 14);
    const r = rng(15);
    const s = Float64Array.from({ length: n }, () => 10 + 5 * r());
    const w = Float64Array.from({ length: n }, () => 0.5 + r());
    const edges = linspace(3, 0, 3);
    const perBin: { w: number; x: number }[][] = Array.from({ length: 5 }, () => []);
    const perBinW: { w: number; x: number }[][] = Array.from({ length: 5 }, () => []);
    x.forEach((v, i) => {
      const l = naiveLocal(naiveBin(v, edges), 3)!;
      perBin[l].push({ w: 1, x: s[i] });
      perBinW[l].push({ w: w[i], x: s[i] });
    });
    const hm = new Hist(new Regular(3, 0, 3), { storage: new Mean() }).fill(x, { sample: s });
    const hw = new Hist(new Regular(3, 0, 3), { storage: new WeightedMean() }).fill(x, { sample: s, weight: w });
    const mv = hm.values({ flow: true });
    const mc = hm.counts({ flow: true });
    const msv = hm.sampleVariances({ flow: true });
    const mvar = hm.variances({ flow: true })!;
    perBin.forEach((entries, b) => {
      const ref = naiveMean(entries);
      expect(mc[b]).toBe(ref.sumw);
      expect(close(mv[b], ref.mean)).toBe(true);
      expect(close(msv[b], ref.ssd / (ref.sumw - 1), 1e-8)).toBe(true);
      expect(close(mvar[b], ref.ssd / (ref.sumw - 1) / ref.sumw, 1e-8)).toBe(true);
    });
    const wv = hw.values({ flow: true });
    const wsw = hw.field('sum_of_weights');
    const wsw2 = hw.field('sum_of_weights_squared');
    const wsv = hw.sampleVariances({ flow: true });
    perBinW.forEach((entries, b) => {
      const ref = naiveMean(entries);
      expect(close(wsw[b], ref.sumw)).toBe(true);
      expect(close(wsw2[b], ref.sumw2)).toBe(true);
      expect(close(wv[b], ref.mean)).toBe(true);
      expect(close(wsv[b], ref.ssd / (ref.sumw - ref.sumw2 / ref.sumw), 1e-8)).toBe(true);
    });
  });
});

describe('fill argument checks', () => {
  const h = new Hist(new Regular(10, 0, 1, { name: 'pt' }), new Regular(10, 0, 1, { name: 'eta' }));
  it('names the axes when the argument count is wrong', () => {
    expect(() => h.fill([1, 2])).toThrow(FillError);
    expect(() => h.fill([1, 2])).toThrow("fill got 1 value argument (array(2 of number)) for 2 axes ('pt', 'eta')");
  });
  it('names both arrays when lengths differ', () => {
    expect(() => h.fill([1, 2], [1, 2, 3])).toThrow("axis 1 'eta' has 3 entries but axis 0 'pt' has 2");
    expect(() => h.fill([1, 2], 0.5, { weight: [1] })).toThrow("weight has 1 entries but axis 0 'pt' has 2");
  });
  it('refuses samples without a Mean storage and requires them with one', () => {
    expect(() => h.fill(1, 1, { sample: 2 })).toThrow('double storage takes no sample');
    expect(() => new Hist(new Regular(2, 0, 1), { storage: new Mean() }).fill([0.5])).toThrow(
      'mean storage needs a sample per entry',
    );
  });
  it('refuses strings on numeric axes and numbers on string axes', () => {
    expect(() => h.fill(['a'], [1])).toThrow("axis 0 'pt' (regular) takes numbers, got strings");
    expect(() => new Hist(new StrCategory(['a'], { name: 'ds' })).fill([1])).toThrow(
      "axis 0 'ds' is a string category axis and takes strings",
    );
  });
  it('scalars alone fill one entry', () => {
    const g = new Hist(new Regular(2, 0, 2)).fill(1.5);
    expect(Array.from(g.values())).toEqual([0, 1]);
    expect(g.entries).toBe(1);
  });
});
