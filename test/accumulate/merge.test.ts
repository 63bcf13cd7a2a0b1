import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ColumnAccumulator,
  MergeError,
  accumulate,
  accumulateAll,
  copyAccumulator,
  merged,
} from '../../src/accumulate/index.ts';
import { RistrettoError } from '../../src/errors/index.ts';
import { leafSum, normalize, pairWithClone, triple } from './fixtures/arbitraries.ts';
import { Counter, PartsOnly, TestHist, Uncopyable } from './fixtures/test-hist.ts';

describe('accumulate: semantics per kind', () => {
  it('adds numbers and bigints, merges nested objects key-wise and copies one-sided keys', () => {
    const a: Record<string, unknown> = { n: 1, big: 10n, muons: { pt: 2, eta: 1.5 }, onlyA: 'x' };
    const b: Record<string, unknown> = { n: 4, big: 2n ** 64n, muons: { pt: 3, phi: 7 }, onlyB: { deep: 5 } };
    expect(merged(a, b)).toEqual({
      n: 5,
      big: 10n + 2n ** 64n,
      muons: { pt: 5, eta: 1.5, phi: 7 },
      onlyA: 'x',
      onlyB: { deep: 5 },
    });
  });

  it('merges Maps key-wise and unions Sets', () => {
    const a = {
      m: new Map<unknown, number>([
        ['DY', 1],
        [3, 2],
      ]),
      s: new Set(['mc', 1]),
    };
    const b = {
      m: new Map<unknown, number>([
        ['DY', 10],
        ['tt', 5],
      ]),
      s: new Set(['data', 1]),
    };
    const r = merged(a, b);
    expect(r.m).toEqual(
      new Map<unknown, number>([
        ['DY', 11],
        [3, 2],
        ['tt', 5],
      ]),
    );
    expect(r.s).toEqual(new Set(['mc', 1, 'data']));
  });

  it('concatenates arrays, typed arrays and columns in order a then b', () => {
    const a = { arr: [1, 2], t: Float32Array.of(1, 2), c: ColumnAccumulator.from(Int32Array.of(7)) };
    const b = { arr: [3], t: Float32Array.of(3), c: ColumnAccumulator.from(Int32Array.of(8, 9)) };
    const r = merged(a, b);
    expect(r.arr).toEqual([1, 2, 3]);
    expect(r.t).toEqual(Float32Array.of(1, 2, 3));
    expect(r.c.toArray()).toEqual(Int32Array.of(7, 8, 9));
    expect(merged(b, a).c.toArray()).toEqual(Int32Array.of(8, 9, 7));
  });

  it('uses iadd in place when present, add otherwise', () => {
    const h = TestHist.of('h', 1, 2);
    const r = accumulate(h, TestHist.of('h', 10, 20));
    expect(r).toBe(h);
    expect(Array.from(h.counts)).toEqual([11, 22]);
    const c = new Counter(2);
    const rc = accumulate(c, new Counter(3));
    expect(rc).not.toBe(c);
    expect(rc.n).toBe(5);
    expect(c.n).toBe(2);
  });

  it('treats null and undefined as empty on either side, and {} as the identity for objects', () => {
    const x = { n: 3, h: TestHist.of('h', 1) };
    expect(accumulate(null, 5)).toBe(5);
    expect(accumulate(5, undefined)).toBe(5);
    expect(normalize(merged({} as typeof x, x))).toEqual(normalize(x));
    expect(normalize(merged(x, {} as typeof x))).toEqual(normalize(x));
    expect(merged({ n: null } as { n: number | null }, { n: 2 })).toEqual({ n: 2 });
  });

  it('keeps equal strings and booleans and refuses different ones', () => {
    expect(merged({ era: '2012B', mc: false }, { era: '2012B', mc: false })).toEqual({ era: '2012B', mc: false });
    expect(() => merged({ era: '2012B' }, { era: '2012C' })).toThrow(
      /at "era": cannot merge strings "2012B" and "2012C"/,
    );
    expect(() => merged({ mc: true }, { mc: false })).toThrow(MergeError);
  });

  it('names the key path and both types on a mismatch', () => {
    const a = { muons: { pt: TestHist.of('h', 1) } };
    const b = { muons: { pt: 3 } } as unknown as typeof a;
    let err: unknown;
    try {
      accumulate(a, b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MergeError);
    expect(err).toBeInstanceOf(RistrettoError);
    expect((err as MergeError).message).toMatch(/^at "muons\/pt": cannot merge TestHist with number — /);
    expect((err as MergeError).context).toMatchObject({ path: 'muons/pt', left: 'TestHist', right: 'number' });
    expect(() => merged<unknown>(new Map([['k', { x: 1 }]]), new Map([['k', { x: 1n }]]))).toThrow(
      /at "k\/x": cannot merge number with bigint/,
    );
    expect(() => merged<unknown>(Float32Array.of(1), Float64Array.of(1))).toThrow(
      /at top level: cannot merge Float32Array with Float64Array/,
    );
    expect(() => merged(ColumnAccumulator.from(Float32Array.of(1)), Float32Array.of(1) as never)).toThrow(
      /ColumnAccumulator\.from/,
    );
    expect(() => merged([1], new Set([1]) as never)).toThrow(/cannot merge array with Set/);
  });

  it('wraps an Addable failure with the key path and keeps the cause', () => {
    try {
      merged({ h: TestHist.of('h', 1) }, { h: TestHist.of('h', 1, 2) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MergeError);
      expect((e as Error).message).toMatch(/at "h": cannot merge TestHist with TestHist: binning differs/);
      expect((e as Error).cause).toBeInstanceOf(Error);
    }
  });

  it('refuses values that are not accumulators', () => {
    expect(() => merged({ when: new Date(0) }, { when: new Date(1) })).toThrow(
      /at "when": cannot merge Date: not an accumulator type/,
    );
    expect(() => merged({}, { f: () => 1 } as never)).toThrow(MergeError);
  });

  it('never lets the result alias b: one-sided values are copied', () => {
    const b = {
      h: TestHist.of('h', 1, 2),
      c: ColumnAccumulator.from(Float32Array.of(1)),
      nested: { t: Uint8Array.of(1), s: new Set([1]) },
      p: new PartsOnly(Int32Array.of(5)),
    };
    const r = accumulate({} as typeof b, b);
    accumulate(r, b);
    expect(Array.from(b.h.counts)).toEqual([1, 2]);
    expect(Array.from(r.h.counts)).toEqual([2, 4]);
    expect(b.c.toArray()).toEqual(Float32Array.of(1));
    expect(b.nested.s).toEqual(new Set([1]));
    expect(Array.from(b.p.values)).toEqual([5]);
    expect(Array.from(r.p.values)).toEqual([10]);
  });

  it('refuses to copy an in-place Addable that has no copy() and no binary parts', () => {
    expect(() => accumulate({} as { u?: Uncopyable }, { u: new Uncopyable(1) })).toThrow(
      /at "u": cannot copy Uncopyable: .*no copy\(\)/,
    );
    // Immutable Addables (no iadd) may be shared, so this works.
    expect(accumulate({} as { c?: Counter }, { c: new Counter(1) }).c?.n).toBe(1);
  });

  it('merges a value with itself as doubling', () => {
    const x = { n: 2, arr: [1], c: ColumnAccumulator.from(Int32Array.of(4, 5)), h: TestHist.of('h', 3) };
    const r = accumulate(x, x);
    expect(r.n).toBe(4);
    expect(r.arr).toEqual([1, 1]);
    expect(r.c.toArray()).toEqual(Int32Array.of(4, 5, 4, 5));
    expect(Array.from(r.h.counts)).toEqual([6]);
  });

  it('accumulateAll folds a list, copyAccumulator is deep', () => {
    expect(accumulateAll([{ n: 1 }, { n: 2 }, { n: 3 }])).toEqual({ n: 6 });
    expect(accumulateAll([])).toBeUndefined();
    const x = { h: TestHist.of('h', 1) };
    const y = copyAccumulator(x);
    accumulate(y, x);
    expect(x.h.counts[0]).toBe(1);
  });
});

describe('ColumnAccumulator', () => {
  it('grows with amortized doubling and matches a naive concatenation', () => {
    const col = new ColumnAccumulator(Float64Array);
    const naive: number[] = [];
    let reallocations = 0;
    let cap = col.capacity;
    for (let i = 0; i < 500; i++) {
      const chunk = Float64Array.from({ length: (i * 7) % 13 }, (_, j) => i * 100 + j);
      col.append(chunk);
      naive.push(...chunk);
      if (col.capacity !== cap) {
        reallocations++;
        cap = col.capacity;
      }
      expect(col.capacity).toBeLessThanOrEqual(Math.max(2 * col.length, 16 + 13));
    }
    expect(Array.from(col.values)).toEqual(naive);
    expect(reallocations).toBeLessThan(Math.log2(naive.length) + 2);
  });

  it('pushes scalars, including bigints, and rejects another kind', () => {
    const c = new ColumnAccumulator(BigInt64Array).push(1n).push(-2n);
    expect(c.toArray()).toEqual(BigInt64Array.of(1n, -2n));
    expect(() => new ColumnAccumulator(Int32Array).append(Float32Array.of(1) as never)).toThrow(
      /cannot append Float32Array to a ColumnAccumulator of Int32Array/,
    );
    expect(() => new ColumnAccumulator('Float128Array')).toThrow(/unknown typed array kind/);
  });

  it('add returns a new column and leaves both inputs alone', () => {
    const a = ColumnAccumulator.from(Int32Array.of(1));
    const b = ColumnAccumulator.from(Int32Array.of(2));
    const r = a.add(b);
    expect(r.toArray()).toEqual(Int32Array.of(1, 2));
    expect(a.toArray()).toEqual(Int32Array.of(1));
  });
});

describe('accumulate: properties on random nested accumulators', () => {
  it('is associative (concatenating kinds included)', () => {
    fc.assert(
      fc.property(triple(true), ([a, b, c]) => {
        expect(normalize(merged(merged(a, b), c))).toEqual(normalize(merged(a, merged(b, c))));
      }),
      { numRuns: 300 },
    );
  });

  it('is commutative when nothing concatenates', () => {
    fc.assert(
      fc.property(triple(false), ([a, b]) => {
        expect(normalize(merged(a, b))).toEqual(normalize(merged(b, a)));
      }),
      { numRuns: 300 },
    );
  });

  it('has the empty accumulator as identity', () => {
    fc.assert(
      fc.property(triple(true), ([a]) => {
        expect(normalize(merged(null, a))).toEqual(normalize(a));
        expect(normalize(merged(a, undefined))).toEqual(normalize(a));
        if (a !== null && typeof a === 'object' && Object.getPrototypeOf(a) === Object.prototype) {
          expect(normalize(merged({}, a))).toEqual(normalize(a));
          expect(normalize(merged(a, {}))).toEqual(normalize(a));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('in place equals the copying merge, never mutates b, and adds every number', () => {
    fc.assert(
      fc.property(pairWithClone(true), ([a, b, bRef]) => {
        const expected = normalize(merged(a, b));
        const sa = leafSum(a);
        const sb = leafSum(b);
        const r = accumulate(a, b);
        expect(normalize(r)).toEqual(expected);
        expect(normalize(b)).toEqual(normalize(bRef));
        const sr = leafSum(r);
        expect(sr.num).toBe(sa.num + sb.num);
        expect(sr.big).toBe(sa.big + sb.big);
        // Further in-place merges into the result still leave b alone (no aliasing).
        accumulate(r, bRef);
        expect(normalize(b)).toEqual(normalize(bRef));
      }),
      { numRuns: 300 },
    );
  });
});
