/**
 * The fused expression layer against the unfused route: random jagged inputs (mixed dtypes, NaN, slices with
 * junk before the first list) through `compute` and through the eager kernels (one array per step), which
 * must give identical arrays; and the combinatorics (pairs, triples, concatenations, argmin) against naive
 * per-event loops written here on plain arrays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import { compiledLoops } from '../../src/columnar/fused/index.ts';
import type { Collection, NumericArray } from '../../src/columnar/types.ts';
import { InvalidArgumentError, LengthMismatchError } from '../../src/columnar/errors.ts';
import {
  type Lists,
  expectSameValues,
  flatArb,
  listsArb,
  listsLike,
  stored,
  toCollection,
  toFlat,
  valueArb,
} from './naive.ts';

const { compute, concat, fx, lazyColumn, lazyObjects } = ak;

/** A random chunk: one collection (pt f32 with NaN, eta f64, phi f32, mass f32, charge i32) and a per-event column. */
const chunkArb = fc.integer({ min: 0, max: 4 }).chain((base) =>
  listsArb(valueArb('f32', { nan: true }), 14, 6).chain((pt) =>
    fc.record({
      base: fc.constant(base),
      pt: fc.constant(pt),
      eta: listsLike(pt, fc.double({ min: -3, max: 3, noNaN: true })),
      phi: listsLike(pt, fc.float({ min: Math.fround(-3.1), max: Math.fround(3.1), noNaN: true })),
      mass: listsLike(pt, fc.float({ min: 0, max: 5, noNaN: true })),
      charge: listsLike(pt, fc.constantFrom(-1, 1)),
      met: flatArb(pt.length, valueArb('f64', { nan: true })),
      cut: fc.double({ min: -10, max: 10, noNaN: true }),
    }),
  ),
);

type Chunk = {
  base: number;
  pt: Lists;
  eta: Lists;
  phi: Lists;
  mass: Lists;
  charge: Lists;
  met: number[];
  cut: number;
};

function collection(c: Chunk): Collection {
  return toCollection(
    {
      pt: { lists: c.pt, dtype: 'f32' },
      eta: { lists: c.eta, dtype: 'f64' },
      phi: { lists: c.phi, dtype: 'f32' },
      mass: { lists: c.mass, dtype: 'f32' },
      charge: { lists: c.charge, dtype: 'i32' },
    },
    c.base,
  );
}

const field = (col: Collection, name: string) => ak.field(col, name);

describe('fused = unfused (eager kernels), random jagged inputs', () => {
  it('element-wise chains, object filters and flatten', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const col = collection(c);
        const o = lazyObjects(col, 'Obj');
        const fused = compute(
          o.pt
            .mul(2)
            .add(o.eta)
            .sub(o.phi.abs())
            .where(o.eta.abs().lt(1).and(o.pt.gt(c.cut))),
        );
        const pt = field(col, 'pt');
        const eta = field(col, 'eta');
        const values = ak.sub(ak.add(ak.mul(pt, 2), eta), ak.abs(field(col, 'phi')));
        const mask = ak.and(ak.lt(ak.abs(eta), 1), ak.gt(pt, c.cut));
        expectSameValues(fused, Array.from(ak.flatten(ak.selectObjects(values, mask))));
        // A column passed through keeps its dtype.
        const raw = compute(o.pt.where(o.eta.gt(0)));
        expect(raw).toBeInstanceOf(Float32Array);
        expectSameValues(raw, Array.from(ak.flatten(ak.selectObjects(pt, ak.gt(eta, 0)))));
      }),
      { numRuns: 150 },
    );
  });

  it('reductions per event (sum, count, any, all, min, max) with and without a filter', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const col = collection(c);
        const o = lazyObjects(col, 'Obj');
        const sel = o.where(o.eta.gt(c.cut / 5));
        const [s, n, mn, mx] = compute([sel.sum((x) => x.pt), sel.count(), sel.min((x) => x.pt), sel.max((x) => x.pt)]);
        const any = compute(o.any((x) => x.pt.gt(c.cut)));
        const all = compute(o.pt.gt(c.cut).all());
        const pt = field(col, 'pt');
        const keep = ak.gt(field(col, 'eta'), c.cut / 5);
        const selPt = ak.selectObjects(pt, keep);
        expectSameValues(s, Array.from(ak.sum(selPt)));
        expectSameValues(n, Array.from(ak.count(keep)));
        expectSameValues(mn, Array.from(ak.min(selPt)));
        expectSameValues(mx, Array.from(ak.max(selPt)));
        expectSameValues(any, Array.from(ak.any(ak.gt(pt, c.cut))));
        expectSameValues(all, Array.from(ak.all(ak.gt(pt, c.cut))));
      }),
      { numRuns: 150 },
    );
  });

  it('event filters: MET of events with ≥ 2 objects above the cut', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const col = collection(c);
        const met = toFlat(c.met, 'f64');
        const o = lazyObjects(col, 'Obj');
        const fused = compute(lazyColumn(met, 'met').where(o.count((x) => x.pt.gt(c.cut)).ge(2)));
        const unfused = ak.filterEvents(met, ak.ge(ak.count(ak.gt(field(col, 'pt'), c.cut)), 2));
        expectSameValues(fused, Array.from(unfused));
      }),
      { numRuns: 150 },
    );
  });

  it('pair counts equal the sizes of the materialized combinations', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const col = collection(c);
        const o = lazyObjects(col, 'Obj');
        const fused = compute(o.pairs().count());
        const pairs = ak.combinations(col, 2);
        expectSameValues(fused, Array.from(ak.counts(pairs)));
        const opposite = compute(o.pairs().count((a, b) => a.charge.ne(b.charge)));
        expectSameValues(opposite, Array.from(ak.counts(ak.oppositeChargePairs(col))));
      }),
      { numRuns: 100 },
    );
  });
});

// Naive references: plain arrays, one event at a time, the ADL formulas written out.
function p4(pt: number, eta: number, phi: number, m: number): [number, number, number, number] {
  const x = pt * Math.cos(phi);
  const y = pt * Math.sin(phi);
  const z = pt * Math.sinh(eta);
  return [x, y, z, Math.sqrt(x * x + y * y + z * z + m * m)];
}
function massOf(...vs: [number, number, number, number][]): number {
  let x = 0;
  let y = 0;
  let z = 0;
  let t = 0;
  vs.forEach((v, i) => {
    x = i === 0 ? v[0] : x + v[0];
    y = i === 0 ? v[1] : y + v[1];
    z = i === 0 ? v[2] : z + v[2];
    t = i === 0 ? v[3] : t + v[3];
  });
  const m2 = t * t - x * x - y * y - z * z;
  return m2 > 0 ? Math.sqrt(m2) : 0;
}
const f32 = (x: number) => Math.fround(x);

describe('fused combinatorics = naive per-event loops', () => {
  it('any opposite-charge pair in a mass window; argmin triple and its fields', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const col = collection(c);
        const o = lazyObjects(col, 'Obj');
        const met = toFlat(c.met, 'f64');
        const lo = Math.abs(c.cut) * 3;
        const hasPair = compute(
          lazyColumn(met, 'met').where(
            o.pairs().any((a, b) => a.charge.ne(b.charge).and(a.p4.add(b.p4).mass.between(lo, lo + 20))),
          ),
        );
        const best = o.triples().argmin((a, b, d) => a.p4.add(b.p4).add(d.p4).mass.sub(10).abs());
        const [bpt, bmax] = compute([
          best.get((a, b, d) => a.p4.add(b.p4).add(d.p4).pt),
          best.get((a, b, d) => fx.maximum(a.pt, b.pt, d.pt)),
        ]);

        const expPair: number[] = [];
        const expPt: number[] = [];
        const expMax: number[] = [];
        c.pt.forEach((pts, e) => {
          const v = pts.map((pt, i) => p4(f32(pt), c.eta[e][i], f32(c.phi[e][i]), f32(c.mass[e][i])));
          let found = false;
          for (let i = 0; i < v.length && !found; i++)
            for (let k = i + 1; k < v.length && !found; k++) {
              const m = massOf(v[i], v[k]);
              if (c.charge[e][i] !== c.charge[e][k] && m >= lo && m <= lo + 20) found = true;
            }
          if (found) expPair.push(c.met[e]);
          let bestD = Infinity;
          let bt: number[] | undefined;
          for (let i = 0; i < v.length; i++)
            for (let j = i + 1; j < v.length; j++)
              for (let k = j + 1; k < v.length; k++) {
                const d = Math.abs(massOf(v[i], v[j], v[k]) - 10);
                if (d < bestD) [bestD, bt] = [d, [i, j, k]];
              }
          if (bt) {
            const [x, y] = [0, 1].map((q) => v[bt[0]][q] + v[bt[1]][q] + v[bt[2]][q]) as [number, number];
            expPt.push(Math.sqrt(x * x + y * y));
            expMax.push(Math.max(...bt.map((i) => f32(pts[i]))));
          }
        });
        expectSameValues(hasPair, expPair);
        expectSameValues(bpt, expPt);
        expectSameValues(bmax, expMax);
      }),
      { numRuns: 150 },
    );
  });

  it('concatenated collections: per-object all() over the other list, and the leading object outside an argmin pair', () => {
    fc.assert(
      fc.property(chunkArb, chunkArb, (c1, c2) => {
        // Two collections over the same events: the second one's lists are cut to the first's event count.
        const n = c1.pt.length;
        const pad = <T>(xs: T[][]): T[][] => Array.from({ length: n }, (_, e) => xs[e] ?? []);
        const c2n: Chunk = {
          ...c2,
          pt: pad(c2.pt),
          eta: pad(c2.eta),
          phi: pad(c2.phi),
          mass: pad(c2.mass),
          charge: pad(c2.charge),
        };
        const a = lazyObjects(collection(c1), 'A');
        const b = lazyObjects(collection(c2n), 'B');
        const both = concat(a, b);
        const jets = a.where((j) => j.pt.gt(c1.cut).and(both.where((l) => l.pt.gt(0)).all((l) => j.deltaR(l).ge(0.5))));
        const sums = compute(jets.sum((j) => j.pt).where(jets.count().gt(0)));
        const z = both
          .pairs()
          .where((p, q) => p.source.eq(q.source))
          .argmin((p, q) => p.p4.add(q.p4).mass.sub(5).abs());
        const [l1, l2] = z.objects;
        const lead = both.where((l) => l.index.ne(l1.index).and(l.index.ne(l2.index))).argmax((l) => l.pt);
        const leadPt = compute(lead.get((l) => l.pt.mul(l.source.add(1))).where(both.count().ge(3).and(z.exists)));

        const expSums: number[] = [];
        const expLead: number[] = [];
        for (let e = 0; e < n; e++) {
          type L = { pt: number; eta: number; phi: number; mass: number; src: number };
          const objs = (c: Chunk, src: number): L[] =>
            c.pt[e].map((pt, i) => ({
              pt: f32(pt),
              eta: c.eta[e][i],
              phi: f32(c.phi[e][i]),
              mass: f32(c.mass[e][i]),
              src,
            }));
          const all = [...objs(c1, 0), ...objs(c2n, 1)];
          const dr = (p: L, q: L) => {
            const dphi = ak.wrapPhi(p.phi - q.phi);
            return Math.sqrt((p.eta - q.eta) ** 2 + dphi * dphi);
          };
          const good = objs(c1, 0).filter(
            (j) => j.pt > c1.cut && all.filter((l) => l.pt > 0).every((l) => dr(j, l) >= 0.5),
          );
          if (good.length > 0) expSums.push(good.reduce((s, j) => s + j.pt, 0));
          if (all.length < 3) continue;
          let bestD = Infinity;
          let pair: [number, number] | undefined;
          for (let i = 0; i < all.length; i++)
            for (let k = i + 1; k < all.length; k++) {
              if (all[i].src !== all[k].src) continue;
              const d = Math.abs(
                massOf(
                  p4(all[i].pt, all[i].eta, all[i].phi, all[i].mass),
                  p4(all[k].pt, all[k].eta, all[k].phi, all[k].mass),
                ) - 5,
              );
              if (d < bestD) [bestD, pair] = [d, [i, k]];
            }
          if (!pair) continue;
          let li = -1;
          all.forEach((l, i) => {
            if (i !== pair[0] && i !== pair[1] && l.pt > (li < 0 ? -Infinity : all[li].pt)) li = i;
          });
          if (li >= 0) expLead.push(all[li].pt * (all[li].src + 1));
        }
        expectSameValues(sums, expSums);
        expectSameValues(leadPt, expLead);
      }),
      { numRuns: 100 },
    );
  });
});

describe('compilation and errors', () => {
  it('chunks with the same structure and dtypes reuse one compiled loop', () => {
    const make = (offsets: number[], pt: number[]) => ({
      offsets: Int32Array.from(offsets),
      fields: { pt: Float32Array.from(pt), eta: Float32Array.from(pt) },
    });
    const query = (col: Collection) => {
      const o = lazyObjects(col, 'Jet');
      return compute(o.where(o.pt.gt(1)).sum((j) => j.pt));
    };
    expectSameValues(query(make([0, 2, 3], [1, 2, 3])), [2, 3]);
    const after = compiledLoops();
    expectSameValues(query(make([0, 0, 1, 4], [5, 0.5, 2, 7])), [0, 5, 9]);
    expect(compiledLoops()).toBe(after);
    // Another dtype is another loop.
    const col = {
      offsets: Int32Array.from([0, 1]),
      fields: { pt: Float64Array.from([4]), eta: Float64Array.from([0]) },
    };
    expectSameValues(query(col), [4]);
    expect(compiledLoops()).toBe(after + 1);
  });

  it('a reused plan binds each chunk by position: aliased columns, swapped members and nested pairs stay apart', () => {
    const jets = (pt: Float32Array, eta: Float32Array, offsets = [0, 3]) =>
      lazyObjects({ offsets: Int32Array.from(offsets), fields: { pt, eta } }, 'Jet');
    const diff = (o: ReturnType<typeof jets>) => compute(o.pt.sub(o.eta));
    const a = Float32Array.from([5, 6, 7]);
    expectSameValues(diff(jets(a, a)), [0, 0, 0]); // pt and eta are one array here ...
    expectSameValues(diff(jets(a, Float32Array.from([1, 2, 3]))), [4, 4, 4]); // ... and two here
    // The same members in the other order, alternating on one chunk: pairs (5,6), (5,7), (6,7).
    const o = jets(a, Float32Array.from([0, 0, 0]));
    for (let rep = 0; rep < 2; rep++) {
      expectSameValues(compute(o.pairs().count((x, y) => x.pt.gt(y.pt))), [0]);
      expectSameValues(compute(o.pairs().count((x, y) => y.pt.gt(x.pt))), [3]);
      // A pair loop inside a pair loop: its members are other variables than the outer ones.
      expectSameValues(
        compute(o.pairs().count((x, y) => o.pairs().any((u, v) => u.pt.add(v.pt).gt(x.pt.add(y.pt))))),
        [2],
      );
      // Only v.pt > y.pt matters here: v is 6, 7 or 7, so only the pair (5, 6) has one.
      expectSameValues(
        compute(o.pairs().count((x, y) => o.pairs().any((_u, v) => x.pt.add(v.pt).gt(x.pt.add(y.pt))))),
        [1],
      );
    }
  });

  it('results are exact-size arrays of their own: a later chunk through the same loop leaves them alone', () => {
    const jets = (pt: number[], offsets: number[]) =>
      lazyObjects({ offsets: Int32Array.from(offsets), fields: { pt: Float64Array.from(pt) } }, 'Jet');
    const central = (o: ReturnType<typeof jets>) => compute(o.pt.where(o.pt.gt(2)));
    const first = central(jets([1, 3, 5, 0], [0, 2, 4]));
    expectSameValues(first, [3, 5]);
    expect(first.buffer.byteLength).toBe(first.byteLength);
    const second = central(jets([9, 8, 7, 6, 1], [0, 5]));
    expectSameValues(second, [9, 8, 7, 6]);
    expectSameValues(first, [3, 5]);
    const all = compute(jets([4, 5], [0, 1, 2]).pt.mul(2));
    expectSameValues(all, [8, 10]);
    expectSameValues(compute(jets([1, 1], [0, 1, 2]).pt.mul(2)), [2, 2]);
    expectSameValues(all, [8, 10]);
  });

  it('typed errors: mixed collections in one output, inputs of different chunks, unknown fields', () => {
    const a = lazyObjects({ offsets: Int32Array.from([0, 1, 2]), fields: { pt: Float32Array.from([1, 2]) } }, 'Jet');
    const b = lazyObjects({ offsets: Int32Array.from([0, 2, 2]), fields: { pt: Float32Array.from([1, 2]) } }, 'Muon');
    expect(() => compute(a.pt.add(b.pt))).toThrow(InvalidArgumentError);
    expect(() => compute(a.pt.add(b.pt))).toThrow(/Jet and Muon/);
    const met = lazyColumn(new Float64Array(3), 'MET_pt');
    expect(() => compute(met.where(a.count().gt(0)))).toThrow(LengthMismatchError);
    expect(() => compute(a.field('eta'))).toThrow(/Jet has no field 'eta'/);
    expect(() => a.pt.add(b.pt).sum()).toThrow(/say which to reduce over/);
    const short: NumericArray = Float32Array.from([1]);
    const bad = lazyObjects({ offsets: Int32Array.from([0, 1, 2]), fields: { pt: short } }, 'Bad');
    expect(() => compute(bad.pt)).toThrow(LengthMismatchError);
  });
});

describe('BinnedLookup (binned corrections in fused expressions)', () => {
  /** The bin by a linear scan over the edges, clamped to the first and last bin; −1 for NaN. */
  const naiveBin = (edges: number[], x: number): number => {
    if (Number.isNaN(x)) return -1;
    let b = 0;
    for (let i = 1; i < edges.length - 1; i++) if (x >= edges[i]) b = i;
    return b;
  };
  const edgesArb = fc
    .uniqueArray(fc.integer({ min: -40, max: 40 }), { minLength: 2, maxLength: 7 })
    .map((xs) => xs.sort((a, b) => a - b).map((x) => x / 8));

  it('per object and per event, 1-D and 2-D, equal a naive scan over the edges (clamped; NaN gives NaN)', () => {
    fc.assert(
      fc.property(chunkArb, edgesArb, edgesArb, fc.integer(), (c, ex, ey, seed) => {
        const vals = Array.from({ length: ex.length - 1 }, (_, i) =>
          Array.from({ length: ey.length - 1 }, (_, j) => ((seed % 97) + 13 * i + 7 * j) / 10),
        );
        const table = new ak.BinnedLookup(vals, [ex, ey], 'sf');
        const table1 = new ak.BinnedLookup(
          vals.map((r) => r[0]),
          [ex],
          'sf1',
        );
        const jets = lazyObjects(collection(c), 'Jet');
        const met = lazyColumn(toFlat(c.met, 'f64'), 'MET_pt');
        const got = compute(table.at(jets.eta, jets.pt));
        const got1 = compute(met.mul(table1.at(met)));
        const exp: number[] = [];
        c.pt.forEach((l, e) =>
          l.forEach((pt, i) => {
            const bx = naiveBin(ex, c.eta[e][i]);
            const by = naiveBin(ey, stored(pt, 'f32'));
            exp.push(bx < 0 || by < 0 ? NaN : vals[bx][by]);
          }),
        );
        expectSameValues(got, exp);
        expectSameValues(
          got1,
          c.met.map((m) => {
            const b = naiveBin(ex, m);
            return b < 0 ? NaN : m * vals[b][0];
          }),
        );
        // The scalar form agrees, and an event-level reduction over looked-up values works too.
        c.pt.forEach((l, e) =>
          l.forEach((pt, i) =>
            expect(
              Object.is(table.value(c.eta[e][i], stored(pt, 'f32')), exp[c.pt.slice(0, e).flat().length + i]),
            ).toBe(true),
          ),
        );
        const sums = compute(jets.sum((j) => table.at(j.eta, j.pt).where(j.pt.gt(c.cut))));
        expect(sums.length).toBe(c.pt.length);
      }),
      { numRuns: 150 },
    );
  });

  it('bad tables and wrong arity are typed errors naming the table', () => {
    expect(() => new ak.BinnedLookup([1, 2], [[0, 1]], 'muonSF')).toThrow(
      /'muonSF': values has 2 entries, dimension 0 has 1 bin/,
    );
    expect(() => new ak.BinnedLookup([1, 2], [[0, 2, 1]], 'muonSF')).toThrow(/not increasing at position 2/);
    expect(() => new ak.BinnedLookup([[1], [2]], [[0, 1, 2]], 'muonSF')).toThrow(/values\[0\] is an array/);
    expect(() => new ak.BinnedLookup(1, [], 'muonSF')).toThrow(InvalidArgumentError);
    const t = new ak.BinnedLookup(
      [[1, 2]],
      [
        [0, 1],
        [0, 1, Infinity],
      ],
      'muonSF',
    );
    expect(() => t.at(1)).toThrow(/'muonSF': 1 argument\(s\) for 2 dimension/);
    expect(t.value(-5, 1e9)).toBe(2);
  });
});
