import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import { type Dtype, type Lists, expectSameValues, listsArb, toJagged, toLists, valueArb } from './naive.ts';

// Naive per-event reductions on plain arrays, following the documented policy: sum propagates NaN; min/max and
// their args skip NaN; ties keep the first element; empty (or all-NaN) lists give NaN / -1.
function naiveArgBest(l: number[], better: (a: number, b: number) => boolean): number {
  let best = -1;
  for (let j = 0; j < l.length; j++) {
    if (Number.isNaN(l[j])) continue;
    if (best === -1 || better(l[j], l[best])) best = j;
  }
  return best;
}
const naive = {
  sum: (l: number[]) => l.reduce((s, v) => s + v, 0),
  count: (l: number[]) => l.filter((v) => v !== 0).length,
  any: (l: number[]) => (l.some((v) => v !== 0) ? 1 : 0),
  all: (l: number[]) => (l.every((v) => v !== 0) ? 1 : 0),
  argmin: (l: number[]) => naiveArgBest(l, (a, b) => a < b),
  argmax: (l: number[]) => naiveArgBest(l, (a, b) => a > b),
  min: (l: number[]) => {
    const k = naiveArgBest(l, (a, b) => a < b);
    return k < 0 ? NaN : l[k];
  },
  max: (l: number[]) => {
    const k = naiveArgBest(l, (a, b) => a > b);
    return k < 0 ? NaN : l[k];
  },
};

const caseArb = fc
  .constantFrom<Dtype>('f64', 'f32', 'i32', 'u8', 'i8')
  .chain((d) => fc.tuple(fc.constant(d), listsArb(valueArb(d, { nan: true }), 15, 6), fc.constantFrom(0, 2)));

describe('per-list reductions', () => {
  it('agree with naive per-event loops on random jagged data (NaN, empty lists, offsets not starting at 0)', () => {
    fc.assert(
      fc.property(caseArb, ([dtype, lists, base]) => {
        const j = toJagged(lists, dtype, base);
        const L: Lists = toLists(j);
        const results = {
          sum: ak.sum(j),
          count: ak.count(j),
          any: ak.any(j),
          all: ak.all(j),
          argmin: ak.argmin(j),
          argmax: ak.argmax(j),
          min: ak.min(j),
          max: ak.max(j),
        };
        for (const [name, r] of Object.entries(results)) {
          expect(r.length).toBe(L.length);
          expectSameValues(r, L.map(naive[name as keyof typeof naive]));
        }
        expect(results.sum).toBeInstanceOf(Float64Array);
        expect(results.min).toBeInstanceOf(Float64Array);
        expect(results.count).toBeInstanceOf(Int32Array);
        expect(results.argmax).toBeInstanceOf(Int32Array);
        expect(results.any).toBeInstanceOf(Uint8Array);
      }),
      { numRuns: 200 },
    );
  });

  it('min/max take the value for empty lists from the caller', () => {
    const j = toJagged([[3, 1], [], [NaN]], 'f64');
    expectSameValues(ak.min(j, 0), [1, 0, 0]);
    expectSameValues(ak.max(j, -Infinity), [3, -Infinity, -Infinity]);
  });

  it('handle ±Infinity as ordinary values and keep the first of ties', () => {
    const j = toJagged([[Infinity], [-Infinity, -Infinity], [2, 5, 5, 2]], 'f32');
    expectSameValues(ak.min(j), [Infinity, -Infinity, 2]);
    expectSameValues(ak.argmin(j), [0, 0, 0]);
    expectSameValues(ak.argmax(j), [0, 0, 1]);
  });

  it('empty chunk and single event', () => {
    const empty = toJagged([], 'f32');
    for (const k of [ak.sum, ak.count, ak.any, ak.all, ak.argmin, ak.argmax, ak.min, ak.max])
      expect(k(empty).length).toBe(0);
    expectSameValues(ak.sum(toJagged([[1.5, 2]], 'f64')), [3.5]);
  });

  it('rejects content shorter than the offsets', () => {
    expect(() => ak.sum({ offsets: Int32Array.of(0, 4), content: new Float32Array(2) })).toThrowError(
      ak.LengthMismatchError,
    );
    expect(() => ak.sum({ offsets: new Int32Array(0), content: new Float32Array(2) })).toThrowError(
      ak.InvalidArgumentError,
    );
  });
});
