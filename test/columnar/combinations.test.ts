import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import {
  type Lists,
  expectSameLists,
  expectSameValues,
  listsArb,
  listsLike,
  toCollection,
  toFlat,
  toJagged,
  toLists,
  valueArb,
} from './naive.ts';

/** Naive candidates as lists of global-index tuples, in the documented order. */
function naivePairs(offsets: Int32Array, lists: Lists): number[][][] {
  return lists.map((l, e) => {
    const out: number[][] = [];
    for (let a = 0; a < l.length; a++)
      for (let b = a + 1; b < l.length; b++) out.push([offsets[e] + a, offsets[e] + b]);
    return out;
  });
}
function naiveTriples(offsets: Int32Array, lists: Lists): number[][][] {
  return lists.map((l, e) => {
    const out: number[][] = [];
    for (let a = 0; a < l.length; a++)
      for (let b = a + 1; b < l.length; b++)
        for (let c = b + 1; c < l.length; c++) out.push([offsets[e] + a, offsets[e] + b, offsets[e] + c]);
    return out;
  });
}

function asTuples(c: ak.Combinations): number[][][] {
  const out: number[][][] = [];
  for (let e = 0; e + 1 < c.offsets.length; e++) {
    const ev: number[][] = [];
    for (let k = c.offsets[e]; k < c.offsets[e + 1]; k++)
      ev.push(c.i2 ? [c.i0[k], c.i1[k], c.i2[k]] : [c.i0[k], c.i1[k]]);
    out.push(ev);
  }
  return out;
}

const twoCollections = fc.tuple(listsArb(fc.constantFrom(-1, 1), 15, 7), fc.constantFrom(0, 2)).chain(([q, base]) =>
  fc.record({
    q: fc.constant(q),
    base: fc.constant(base),
    other: fc.tuple(...q.map(() => fc.array(valueArb('f32'), { maxLength: 4 }))),
  }),
);

describe('combinations, cartesian, oppositeChargePairs', () => {
  it('enumerate the same candidates as nested loops, in order', () => {
    fc.assert(
      fc.property(twoCollections, ({ q, base, other }) => {
        const muons = toCollection({ charge: { lists: q, dtype: 'i32' } }, base);
        const jets = toJagged(other as Lists, 'f32');

        const p = ak.combinations(muons, 2);
        expect(p.i2).toBeUndefined();
        expect(asTuples(p)).toEqual(naivePairs(muons.offsets, q));

        const t = ak.combinations(muons, 3);
        expect(asTuples(t)).toEqual(naiveTriples(muons.offsets, q));

        const x = ak.cartesian(muons, jets);
        const naiveCart = q.map((l, e) => {
          const out: number[][] = [];
          for (let a = 0; a < l.length; a++)
            for (let b = 0; b < (other as Lists)[e].length; b++) out.push([muons.offsets[e] + a, jets.offsets[e] + b]);
          return out;
        });
        expect(asTuples(x)).toEqual(naiveCart);

        const os = ak.oppositeChargePairs(muons);
        const naiveOs = naivePairs(muons.offsets, q).map((ev) =>
          ev.filter(([a, b]) => muons.fields.charge[a] * muons.fields.charge[b] < 0),
        );
        expect(asTuples(os)).toEqual(naiveOs);
        // The fused path equals the general one.
        const general = ak.selectObjects(
          p,
          ak.ne(ak.combinationField(p, 0, muons.fields.charge), ak.combinationField(p, 1, muons.fields.charge)),
        );
        expect(asTuples(general)).toEqual(naiveOs);
      }),
      { numRuns: 150 },
    );
  });

  it('oppositeChargePairs ignores neutral objects and reads the named field', () => {
    const c = toCollection({ q: { lists: [[1, 0, -1, -1]], dtype: 'f32' } });
    const os = ak.oppositeChargePairs(c, 'q');
    expect(asTuples(os)).toEqual([
      [
        [0, 2],
        [0, 3],
      ],
    ]);
    expect(() => ak.oppositeChargePairs(c)).toThrowError(ak.FieldNotFoundError);
  });

  it('empty chunk, events with 0 or 1 objects, single event', () => {
    const empty = toJagged([], 'f32');
    expectSameValues(ak.combinations(empty, 2).offsets, [0]);
    expectSameValues(ak.cartesian(empty, empty).offsets, [0]);
    const few = toJagged([[], [1], [1, 2]], 'f32');
    expectSameValues(ak.combinations(few, 2).offsets, [0, 0, 0, 1]);
    expectSameValues(ak.combinations(few, 3).offsets, [0, 0, 0, 0]);
  });

  it('rejects other sizes and mismatched event counts', () => {
    const j = toJagged([[1, 2]], 'f32');
    expect(() => ak.combinations(j, 4 as 2)).toThrowError(/n must be 2 or 3, got 4/);
    expect(() => ak.cartesian(j, toJagged([[1], [2]], 'f32'))).toThrowError(ak.LengthMismatchError);
  });
});

describe('gather and combinationField', () => {
  it('gather reads content at global indices, keeping the dtype', () => {
    fc.assert(
      fc.property(
        fc
          .array(valueArb('f32', { nan: true }), { minLength: 1, maxLength: 20 })
          .chain((content) =>
            fc.tuple(
              fc.constant(content),
              fc.array(fc.integer({ min: 0, max: content.length - 1 }), { maxLength: 30 }),
            ),
          ),
        ([content, idx]) => {
          const c = toFlat(content, 'f32');
          const g = ak.gather(c, toFlat(idx, 'i32'));
          expect(g).toBeInstanceOf(Float32Array);
          expectSameValues(
            g,
            idx.map((i) => c[i]),
          );
        },
      ),
    );
  });

  it('gather rejects indices outside the content, naming the position', () => {
    expect(() => ak.gather(Float32Array.of(1, 2), Int32Array.of(0, 2))).toThrowError(
      /index 2 at position 1 is outside the content \(length 2\)/,
    );
    expect(() => ak.gather(Float32Array.of(1, 2), Int32Array.of(-1))).toThrowError(ak.InvalidArgumentError);
  });

  it('combinationField aligns a slot field with the candidates', () => {
    fc.assert(
      fc.property(
        listsArb(valueArb('f64'), 10, 5).chain((pt) => fc.tuple(fc.constant(pt), listsLike(pt, valueArb('i32')))),
        ([pt]) => {
          const c = toCollection({ pt: { lists: pt, dtype: 'f64' } });
          const t = ak.combinations(c, 3);
          const f2 = ak.combinationField(t, 2, c.fields.pt);
          expect(f2.offsets).toBe(t.offsets);
          expectSameLists(
            toLists(f2),
            naiveTriples(c.offsets, pt).map((ev) => ev.map(([, , k]) => c.fields.pt[k])),
          );
          expect(() => ak.combinationField(ak.combinations(c, 2), 2, c.fields.pt)).toThrowError(
            /slot 2 does not exist/,
          );
        },
      ),
      { numRuns: 50 },
    );
  });
});
