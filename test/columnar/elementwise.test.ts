import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import type { Jagged } from '../../src/columnar/types.ts';
import {
  type Dtype,
  type Lists,
  expectSameLists,
  expectSameValues,
  flatArb,
  listsArb,
  listsLike,
  toFlat,
  toJagged,
  toLists,
  valueArb,
} from './naive.ts';

// Reference semantics written independently of the kernels: plain JS on plain numbers.
const BINARY: Record<string, [(a: number, b: number) => number, (a: ak.Operand, b: ak.Operand) => unknown]> = {
  add: [(a, b) => a + b, ak.add],
  sub: [(a, b) => a - b, ak.sub],
  mul: [(a, b) => a * b, ak.mul],
  div: [(a, b) => a / b, ak.div],
  pow: [(a, b) => a ** b, ak.pow],
  atan2: [(a, b) => Math.atan2(a, b), ak.atan2],
  minimum: [(a, b) => (a !== a || b !== b ? NaN : a < b ? a : b === a ? (Object.is(a, -0) ? a : b) : b), ak.minimum],
  maximum: [(a, b) => (a !== a || b !== b ? NaN : a > b ? a : b === a ? (Object.is(a, 0) ? a : b) : b), ak.maximum],
  gt: [(a, b) => (a > b ? 1 : 0), ak.gt],
  lt: [(a, b) => (a < b ? 1 : 0), ak.lt],
  ge: [(a, b) => (a >= b ? 1 : 0), ak.ge],
  le: [(a, b) => (a <= b ? 1 : 0), ak.le],
  eq: [(a, b) => (a === b ? 1 : 0), ak.eq],
  ne: [(a, b) => (a !== b ? 1 : 0), ak.ne],
};

const UNARY: Record<string, [(a: number) => number, (a: ak.NumericArray | Jagged) => unknown]> = {
  abs: [(a) => (a < 0 ? -a : a === 0 ? 0 : a), ak.abs],
  neg: [(a) => -a, ak.neg],
  sqrt: [Math.sqrt, ak.sqrt],
  square: [(a) => a * a, ak.square],
  exp: [Math.exp, ak.exp],
  log: [Math.log, ak.log],
  sin: [Math.sin, ak.sin],
  cos: [Math.cos, ak.cos],
  sinh: [Math.sinh, ak.sinh],
  cosh: [Math.cosh, ak.cosh],
};

const COMPARISONS = new Set(['gt', 'lt', 'ge', 'le', 'eq', 'ne']);

const dtypes: Dtype[] = ['f64', 'f32', 'i32', 'u8'];

/** Shape of a random test case: jagged lists, a same-shape second lists, per-event values, a scalar. */
const caseArb = fc
  .tuple(fc.constantFrom(...dtypes), fc.constantFrom(...dtypes), fc.constantFrom(0, 3))
  .chain(([da, db, base]) =>
    listsArb(valueArb(da, { nan: true })).chain((a) =>
      fc.record({
        da: fc.constant(da),
        db: fc.constant(db),
        base: fc.constant(base),
        a: fc.constant(a),
        b: listsLike(a, valueArb(db, { nan: true })),
        fa: flatArb(a.length, valueArb(da, { nan: true })),
        fb: flatArb(a.length, valueArb(db, { nan: true })),
        s: valueArb('f64', { nan: true }),
      }),
    ),
  );

function resultLists(r: unknown): Lists {
  return toLists(r as Jagged);
}

describe('binary element-wise kernels with broadcasting', () => {
  for (const [name, [ref, kernel]] of Object.entries(BINARY)) {
    it(`${name}: every operand shape agrees with a per-event loop`, () => {
      fc.assert(
        fc.property(caseArb, ({ da, db, base, a, b, fa, fb, s }) => {
          const ja = toJagged(a, da, base);
          const jb = toJagged(b, db, base);
          const flatA = toFlat(fa, da);
          const flatB = toFlat(fb, db);
          // Values as the typed arrays hold them (Float32 rounding, Uint8 wrapping is excluded by the arbitraries).
          const A = toLists(ja);
          const B = toLists(jb);
          const FA = Array.from(flatA);
          const FB = Array.from(flatB);

          expectSameLists(
            resultLists(kernel(ja, jb)),
            A.map((l, i) => l.map((x, j) => ref(x, B[i][j]))),
          );
          expectSameLists(
            resultLists(kernel(ja, flatB)),
            A.map((l, i) => l.map((x) => ref(x, FB[i]))),
          );
          expectSameLists(
            resultLists(kernel(flatA, jb)),
            B.map((l, i) => l.map((y) => ref(FA[i], y))),
          );
          expectSameLists(
            resultLists(kernel(ja, s)),
            A.map((l) => l.map((x) => ref(x, s))),
          );
          expectSameLists(
            resultLists(kernel(s, jb)),
            B.map((l) => l.map((y) => ref(s, y))),
          );
          expectSameValues(
            kernel(flatA, flatB) as ArrayLike<number>,
            FA.map((x, i) => ref(x, FB[i])),
          );
          expectSameValues(
            kernel(flatA, s) as ArrayLike<number>,
            FA.map((x) => ref(x, s)),
          );
          expectSameValues(
            kernel(s, flatB) as ArrayLike<number>,
            FB.map((y) => ref(s, y)),
          );
        }),
        { numRuns: 60 },
      );
    });
  }

  it('comparisons return Uint8Array masks, arithmetic Float64Array, sharing the jagged offsets', () => {
    const j = toJagged([[1, 2], [], [3]], 'f32');
    for (const [name, [, kernel]] of Object.entries(BINARY)) {
      const r = kernel(j, 2) as Jagged;
      expect(r.offsets).toBe(j.offsets);
      expect(r.content).toBeInstanceOf(COMPARISONS.has(name) ? Uint8Array : Float64Array);
    }
  });

  it('IEEE NaN: every comparison false except ne', () => {
    const nan = Float64Array.of(NaN, 1);
    const one = Float64Array.of(1, NaN);
    for (const k of [ak.gt, ak.lt, ak.ge, ak.le, ak.eq]) expectSameValues(k(nan, one), [0, 0]);
    expectSameValues(ak.ne(nan, one), [1, 1]);
  });

  it('empty chunk (0 events) and single event', () => {
    const empty = toJagged([], 'f32');
    const r = ak.add(empty, new Float32Array(0));
    expect(r.offsets).toBe(empty.offsets);
    expect(r.content.length).toBe(0);
    expect(ak.gt(new Float64Array(0), 1).length).toBe(0);
    const one = toJagged([[1, 5]], 'i32');
    expectSameLists(toLists(ak.mul(one, Int32Array.of(3))), [[3, 15]]);
  });

  it('rejects inputs of different lengths with the lengths in the error', () => {
    expect(() => ak.add(Float32Array.of(1, 2, 3), Float32Array.of(1, 2))).toThrowError(ak.LengthMismatchError);
    expect(() => ak.add(Float32Array.of(1, 2, 3), Float32Array.of(1, 2))).toThrowError(/length 2, expected 3/);
    const j = toJagged([[1], [2, 3]], 'f32');
    expect(() => ak.gt(j, Float32Array.of(1, 2, 3))).toThrowError(/event-level\) has length 3, expected 2/);
    expect(() => ak.gt(Float32Array.of(1), j)).toThrowError(ak.LengthMismatchError);
  });

  it('rejects jagged operands of different structure, naming the event', () => {
    const a = toJagged([[1], [2, 3], []], 'f32');
    const b = toJagged([[1], [2], [3]], 'f32');
    expect(() => ak.add(a, b)).toThrowError(ak.OffsetsMismatchError);
    expect(() => ak.add(a, b)).toThrowError(/at event 1 \(2 vs 1 elements\)/);
    const c = toJagged([[1], [2, 3]], 'f32');
    expect(() => ak.add(a, c)).toThrowError(ak.LengthMismatchError);
  });

  it('rejects content shorter than the offsets, two scalars, and non-columns', () => {
    const bad = { offsets: Int32Array.of(0, 2, 5), content: new Float32Array(3) };
    expect(() => ak.abs(bad)).toThrowError(/content has length 3, expected 5/);
    expect(() => (ak.add as (a: unknown, b: unknown) => unknown)(1, 2)).toThrowError(ak.InvalidArgumentError);
    const coll = { offsets: Int32Array.of(0), fields: {} };
    expect(() => (ak.add as (a: unknown, b: unknown) => unknown)(coll, 1)).toThrowError(
      /collection \(pick one of its fields\)/,
    );
    expect(() => (ak.add as (a: unknown, b: unknown) => unknown)([1, 2], 1)).toThrowError(ak.InvalidArgumentError);
  });
});

describe('unary element-wise kernels', () => {
  for (const [name, [ref, kernel]] of Object.entries(UNARY)) {
    it(`${name} agrees with a per-element loop on flat and jagged input`, () => {
      const arb = fc
        .constantFrom(...dtypes)
        .chain((d) => fc.tuple(fc.constant(d), listsArb(valueArb(d, { nan: true })), fc.constantFrom(0, 2)));
      fc.assert(
        fc.property(arb, ([dtype, lists, base]) => {
          const j = toJagged(lists, dtype, base);
          const L = toLists(j);
          const r = kernel(j) as Jagged;
          expect(r.offsets).toBe(j.offsets);
          expectSameLists(
            toLists(r),
            L.map((l) => l.map(ref)),
          );
          const flat = toFlat(L.flat(), dtype);
          expectSameValues(kernel(flat) as Float64Array, Array.from(flat).map(ref));
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe('mask combination', () => {
  const truth = (x: number): boolean => x !== 0;
  it('and/or/xor/not agree with boolean logic for flat, jagged and flat-with-jagged masks', () => {
    fc.assert(
      fc.property(
        listsArb(fc.integer({ min: 0, max: 3 })).chain((a) =>
          fc.tuple(
            fc.constant(a),
            listsLike(a, fc.integer({ min: 0, max: 1 })),
            flatArb(a.length, fc.integer({ min: 0, max: 1 })),
          ),
        ),
        ([a, b, ev]) => {
          const ja = toJagged(a, 'u8');
          const jb = toJagged(b, 'u8');
          const fev = toFlat(ev, 'u8');
          const refs: [(x: number, y: number) => boolean, (x: ak.Operand, y: ak.Operand) => unknown][] = [
            [(x, y) => truth(x) && truth(y), ak.and],
            [(x, y) => truth(x) || truth(y), ak.or],
            [(x, y) => truth(x) !== truth(y), ak.xor],
          ];
          for (const [ref, k] of refs) {
            expectSameLists(
              toLists(k(ja, jb) as Jagged),
              a.map((l, i) => l.map((x, j) => (ref(x, b[i][j]) ? 1 : 0))),
            );
            expectSameLists(
              toLists(k(fev, ja) as Jagged),
              a.map((l, i) => l.map((x) => (ref(ev[i], x) ? 1 : 0))),
            );
            expectSameValues(
              k(fev, fev) as Uint8Array,
              ev.map((x) => (ref(x, x) ? 1 : 0)),
            );
          }
          expectSameLists(
            toLists(ak.not(ja)),
            a.map((l) => l.map((x) => (truth(x) ? 0 : 1))),
          );
          expectSameValues(
            ak.not(fev),
            ev.map((x) => (truth(x) ? 0 : 1)),
          );
        },
      ),
      { numRuns: 80 },
    );
  });
});
