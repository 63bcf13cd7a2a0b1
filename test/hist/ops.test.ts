import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AxisNotFoundError,
  Double,
  Hist,
  IncompatibleHistogramsError,
  Int64,
  Mean,
  Regular,
  StrCategory,
  Variable,
  Weight,
  WeightedMean,
  type Storage,
} from '../../src/hist/index.ts';
import { close } from './naive.ts';

const storages: Record<string, () => Storage> = {
  double: () => new Double(),
  int64: () => new Int64(),
  weight: () => new Weight(),
  mean: () => new Mean(),
  weighted_mean: () => new WeightedMean(),
};

/** Entries as (dataset, x, y, weight, sample); weights are small integers so sums are exact. */
const entry = fc.record({
  ds: fc.constantFrom('DY', 'tt', 'W', 'QCD'),
  x: fc.oneof(fc.double({ min: -1, max: 6, noNaN: true }), fc.constant(NaN)),
  y: fc.double({ min: -3, max: 3, noNaN: true }),
  w: fc.integer({ min: 0, max: 5 }),
  s: fc.integer({ min: -20, max: 20 }),
});

function build(kind: string, entries: { ds: string; x: number; y: number; w: number; s: number }[]): Hist {
  const h = new Hist(
    new StrCategory([], { name: 'ds', growth: true }),
    new Regular(5, 0, 5, { name: 'x' }),
    new Variable([-3, -1, 0, 3], { name: 'y', overflow: false }),
    { storage: storages[kind]() },
  );
  if (entries.length === 0) return h;
  const opts: { weight: number[]; sample?: number[] } = { weight: entries.map((e) => e.w) };
  if (kind === 'mean' || kind === 'weighted_mean') opts.sample = entries.map((e) => e.s);
  h.fill(
    entries.map((e) => e.ds),
    entries.map((e) => e.x),
    entries.map((e) => e.y),
    opts,
  );
  return h;
}

/** Bin contents keyed by category, so histograms whose categories grew in another order compare. */
function byCategory(h: Hist): Record<string, number[][]> {
  const out: Record<string, number[][]> = {};
  const cat = h.axes[0];
  if (cat.kind !== 'str_category') throw new Error('expected a category axis first');
  const per = h.field(h.storage.fields[0]).length / Math.max(1, cat.size);
  cat.categories.forEach((c, i) => {
    out[c] = h.storage.fields.map((f) => Array.from(h.field(f).subarray(i * per, (i + 1) * per)));
  });
  return out;
}

function sameContents(a: Hist, b: Hist, exact: boolean): boolean {
  const A = byCategory(a);
  const B = byCategory(b);
  const keys = Object.keys(A).sort();
  if (keys.join() !== Object.keys(B).sort().join()) return false;
  return keys.every((k) =>
    A[k].every((field, f) =>
      field.every((v, i) => (exact ? Object.is(v, B[k][f][i]) || v === B[k][f][i] : close(v, B[k][f][i], 1e-9, 1e-9))),
    ),
  );
}

describe('add is a commutative, associative merge', () => {
  for (const kind of Object.keys(storages)) {
    const exact = kind !== 'mean' && kind !== 'weighted_mean';
    it(`${kind}: a+b = b+a and (a+b)+c = a+(b+c), growth categories unioned`, () => {
      fc.assert(
        fc.property(
          fc.array(entry, { maxLength: 30 }),
          fc.array(entry, { maxLength: 30 }),
          fc.array(entry, { maxLength: 30 }),
          (ea, eb, ec) => {
            const [a, b, c] = [build(kind, ea), build(kind, eb), build(kind, ec)];
            const ab = a.add(b);
            expect(sameContents(ab, b.add(a), exact)).toBe(true);
            expect(sameContents(ab.add(c), a.add(b.add(c)), exact)).toBe(true);
            // merging equals filling everything into one histogram
            expect(sameContents(ab.add(c), build(kind, [...ea, ...eb, ...ec]), exact)).toBe(true);
            expect(ab.entries).toBe(a.entries + b.entries);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('add leaves both inputs unchanged; iadd changes only the left side', () => {
    const a = build('weight', [{ ds: 'DY', x: 1, y: 0, w: 2, s: 0 }]);
    const b = build('weight', [{ ds: 'tt', x: 2, y: 0, w: 3, s: 0 }]);
    const before = [a.values({ flow: true }).slice(), b.values({ flow: true }).slice()];
    const sum = a.add(b);
    expect(a.values({ flow: true })).toEqual(before[0]);
    expect(b.values({ flow: true })).toEqual(before[1]);
    expect(a.axes[0].size).toBe(1);
    expect(sum.axes[0].size).toBe(2);
    expect(a.iadd(b)).toBe(a);
    expect(a.axes[0].size).toBe(2);
    expect(b.values({ flow: true })).toEqual(before[1]);
    expect(sameContents(a, sum, true)).toBe(true);
  });
});

describe('merge refusal names the difference', () => {
  const pt = (bins: number) => new Hist(new Regular(bins, 0, 200, { name: 'pt' }));
  it('different binning', () => {
    expect(() => pt(100).add(pt(50))).toThrow(IncompatibleHistogramsError);
    expect(() => pt(100).add(pt(50))).toThrow("axis 0 'pt': edges differ (100 bins [0,200) vs 50 bins [0,200))");
  });
  it('different kinds, names, flow, storage, dimensionality, categories', () => {
    const a = new Hist(new Regular(2, 0, 1, { name: 'x' }));
    expect(() => a.add(new Hist(new Variable([0, 0.5, 1], { name: 'x' })))).toThrow(
      "axis 0 'x': kinds differ (regular vs variable)",
    );
    expect(() => a.add(new Hist(new Regular(2, 0, 1, { name: 'y' })))).toThrow("axis 0 'x': names differ ('x' vs 'y')");
    expect(() => a.add(new Hist(new Regular(2, 0, 1, { name: 'x', underflow: false })))).toThrow(
      "axis 0 'x': flow bins differ (underflow+overflow vs overflow only)",
    );
    expect(() => a.add(new Hist(new Regular(2, 0, 1, { name: 'x' }), { storage: new Weight() }))).toThrow(
      'storages differ (double vs weight)',
    );
    expect(() => a.add(new Hist(new Regular(2, 0, 1, { name: 'x' }), new Regular(2, 0, 1)))).toThrow(
      'axis counts differ (1 vs 2)',
    );
    const c1 = new Hist(new StrCategory(['a', 'b'], { name: 'ds' }));
    const c2 = new Hist(new StrCategory(['a', 'c'], { name: 'ds' }));
    expect(() => c1.add(c2)).toThrow(`axis 0 'ds': categories differ (categories ["a", "b"] vs categories ["a", "c"])`);
    expect(() =>
      new Hist(new Regular(2, 0, 1, { name: 'x', label: 'p_T' })).add(
        new Hist(new Regular(2, 0, 1, { name: 'x', label: 'pT' })),
      ),
    ).toThrow("labels differ ('p_T' vs 'pT')");
  });
});

describe('reductions', () => {
  // a 2-D histogram with known contents: x in 4 bins over [0,4), y in 3 bins over [0,3)
  function grid(): Hist {
    const h = new Hist(new Regular(4, 0, 4, { name: 'x' }), new Regular(3, 0, 3, { name: 'y' }), {
      storage: new Weight(),
    });
    const xs: number[] = [];
    const ys: number[] = [];
    const ws: number[] = [];
    for (let x = -1; x <= 4; x++)
      for (let y = -1; y <= 3; y++) {
        xs.push(x + 0.5);
        ys.push(y + 0.5);
        ws.push(10 * (x + 2) + (y + 2)); // unique weight per cell
      }
    return h.fill(xs, ys, { weight: ws });
  }
  const cell = (x: number, y: number): number => 10 * (x + 2) + (y + 2);

  it('project and sumOver sum the other axes, flow bins included', () => {
    const h = grid();
    const px = h.project('x');
    for (let x = -1; x <= 4; x++) {
      let s = 0;
      for (let y = -1; y <= 3; y++) s += cell(x, y);
      expect(px.values({ flow: true })[x + 1]).toBe(s);
    }
    expect(Array.from(h.sumOver('x').values({ flow: true }))).toEqual(
      Array.from(h.project('y').values({ flow: true })),
    );
    // transposed projection
    const yx = h.project('y', 'x');
    expect(yx.shape({ flow: true })).toEqual([5, 6]);
    expect(yx.values({ flow: true })[(2 + 1) * 6 + (1 + 1)]).toBe(cell(1, 2));
    expect(() => h.project('pt')).toThrow(AxisNotFoundError);
    expect(() => h.project('xx')).toThrow("no axis named 'xx' — closest: 'x', 'y'");
  });

  it('slice moves the cut bins into the flow bins; crop drops them', () => {
    const h = grid().project('x');
    const s = h.slice('x', 1, 3);
    expect(s.axes[0].kind === 'regular' && [s.axes[0].lower, s.axes[0].upper, s.axes[0].size]).toEqual([1, 3, 2]);
    const v = h.values({ flow: true });
    expect(Array.from(s.values({ flow: true }))).toEqual([v[0] + v[1], v[2], v[3], v[4] + v[5]]);
    expect(Array.from(h.slice('x', 1, 3, { crop: true }).values({ flow: true }))).toEqual([0, v[2], v[3], 0]);
    expect(Array.from(h.slice('x', 1.2, 3, { by: 'value' }).values())).toEqual([v[2], v[3]]);
    expect(h.slice('x', 1, 3).sum({ flow: true }).value).toBe(h.sum({ flow: true }).value);
  });

  it('rebin merges adjacent bins and keeps flow; refuses factors that do not divide', () => {
    const h = grid().project('x');
    const v = h.values({ flow: true });
    const r = h.rebin('x', 2);
    expect(Array.from(r.values({ flow: true }))).toEqual([v[0], v[1] + v[2], v[3] + v[4], v[5]]);
    expect(r.axes[0].kind === 'regular' && Array.from(r.axes[0].edges)).toEqual([0, 2, 4]);
    expect(() => h.rebin('x', 3)).toThrow(
      "axis 0 'x' has 4 bins, not divisible by rebin factor 3 — slice the axis to a multiple of the factor first",
    );
  });

  it('sum integrates with or without flow; variances follow', () => {
    const h = grid();
    let all = 0;
    let all2 = 0;
    let inner = 0;
    for (let x = -1; x <= 4; x++)
      for (let y = -1; y <= 3; y++) {
        all += cell(x, y);
        all2 += cell(x, y) ** 2;
        if (x >= 0 && x < 4 && y >= 0 && y < 3) inner += cell(x, y);
      }
    expect(h.sum({ flow: true }).value).toBe(all);
    expect(h.sum({ flow: true }).variance).toBe(all2);
    expect(h.sum().value).toBe(inner);
  });

  it('select keeps one bin of an axis and removes it', () => {
    const h = grid();
    const row = h.select('x', 2);
    expect(row.ndim).toBe(1);
    expect(Array.from(row.values({ flow: true }))).toEqual([-1, 0, 1, 2, 3].map((y) => cell(2, y)));
    const c = new Hist(new StrCategory(['a', 'b'], { name: 'ds' }), new Regular(2, 0, 2)).fill(
      ['a', 'b', 'b'],
      [0.5, 0.5, 1.5],
    );
    expect(Array.from(c.select('ds', 'b').values())).toEqual([1, 1]);
    expect(() => c.select('ds', 'c')).toThrow(/has no category "c"/);
  });

  it('scale multiplies weights by f and squared weights by f²', () => {
    const h = grid();
    const s = h.scale(0.5);
    h.values({ flow: true }).forEach((v, i) => expect(s.values({ flow: true })[i]).toBe(v * 0.5));
    h.variances({ flow: true })!.forEach((v, i) => expect(s.variances({ flow: true })![i]).toBe(v * 0.25));
    const d = new Hist(new Regular(2, 0, 2)).fill([0.5]);
    expect(d.scale(2).variances()).toBeNull();
    expect(() => new Hist(new Regular(2, 0, 2), { storage: new Int64() }).scale(0.5)).toThrow(
      /Int64 storage can only be scaled by integers/,
    );
  });
});
