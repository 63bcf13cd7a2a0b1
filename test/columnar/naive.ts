/**
 * Test-side helpers: random jagged data as plain JS arrays of arrays (the reference representation the naive
 * per-event loops in the tests work on), and conversion to/from the typed-array layout under test.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Collection, Jagged, NumericArray } from '../../src/columnar/types.ts';

export type Lists = number[][];

export type Dtype = 'f64' | 'f32' | 'i32' | 'u8' | 'i8' | 'u16';

const CTORS = {
  f64: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u8: Uint8Array,
  i8: Int8Array,
  u16: Uint16Array,
} as const;

/** A value arbitrary exactly representable in `dtype` (floats may include NaN and ±Infinity if asked). */
export function valueArb(dtype: Dtype, opts: { nan?: boolean } = {}): fc.Arbitrary<number> {
  const nan = opts.nan ?? false;
  switch (dtype) {
    case 'f64':
      return fc.oneof(
        fc.double({ noNaN: !nan, min: -1e6, max: 1e6 }),
        fc.constantFrom(0, -0, 1, -1, 2.5),
        ...(nan ? [fc.constant(NaN)] : []),
      );
    case 'f32':
      return fc.oneof(
        fc.float({ noNaN: !nan, min: -1e6, max: 1e6 }),
        fc.constantFrom(0, -0, 1, -1, 2.5),
        ...(nan ? [fc.constant(NaN)] : []),
      );
    case 'i32':
      return fc.integer({ min: -1000, max: 1000 });
    case 'u8':
      return fc.integer({ min: 0, max: 255 });
    case 'i8':
      return fc.integer({ min: -128, max: 127 });
    case 'u16':
      return fc.integer({ min: 0, max: 65535 });
  }
}

/** Random lists: 0..maxEvents events of 0..maxLen values each. */
export function listsArb(values: fc.Arbitrary<number>, maxEvents = 12, maxLen = 5): fc.Arbitrary<Lists> {
  return fc.array(fc.array(values, { maxLength: maxLen }), { maxLength: maxEvents });
}

/** Lists with the same list lengths as `shape`, values from `values`. */
export function listsLike(shape: Lists, values: fc.Arbitrary<number>): fc.Arbitrary<Lists> {
  return fc.tuple(
    ...shape.map((l) => fc.array(values, { minLength: l.length, maxLength: l.length })),
  ) as fc.Arbitrary<Lists>;
}

/** Random lists of 0/1 bytes with the given shape. */
export function maskLike(shape: Lists): fc.Arbitrary<Lists> {
  return listsLike(shape, fc.integer({ min: 0, max: 1 }));
}

/** Random flat array of `n` values. */
export function flatArb(n: number, values: fc.Arbitrary<number>): fc.Arbitrary<number[]> {
  return fc.array(values, { minLength: n, maxLength: n });
}

/**
 * Jagged column from lists. `base` > 0 puts that many junk elements before the first list (offsets[0] = base)
 * and after the last, as an Arrow slice would.
 */
export function toJagged<D extends Dtype>(lists: Lists, dtype: D, base = 0): Jagged<InstanceType<(typeof CTORS)[D]>> {
  const offsets = new Int32Array(lists.length + 1);
  offsets[0] = base;
  for (let i = 0; i < lists.length; i++) offsets[i + 1] = offsets[i] + lists[i].length;
  const content = new CTORS[dtype](offsets[lists.length] + base) as InstanceType<(typeof CTORS)[D]>;
  content.fill(99, 0, base);
  content.fill(77, offsets[lists.length]);
  let k = base;
  for (const l of lists) for (const v of l) content[k++] = v;
  return { offsets, content };
}

/** Typed array from a plain array. */
export function toFlat<D extends Dtype>(values: number[], dtype: D): InstanceType<(typeof CTORS)[D]> {
  return CTORS[dtype].from(values) as InstanceType<(typeof CTORS)[D]>;
}

/** Lists from a jagged column (reads only the ranges the offsets point to). */
export function toLists(x: { offsets: Int32Array; content: ArrayLike<number> }): Lists {
  const out: Lists = [];
  for (let i = 0; i + 1 < x.offsets.length; i++) {
    const l: number[] = [];
    for (let j = x.offsets[i]; j < x.offsets[i + 1]; j++) l.push(x.content[j]);
    out.push(l);
  }
  return out;
}

/** Collection from several same-shape lists. */
export function toCollection(fields: Record<string, { lists: Lists; dtype: Dtype }>, base = 0): Collection {
  let offsets: Int32Array | undefined;
  const out: Record<string, NumericArray> = {};
  for (const [name, { lists, dtype }] of Object.entries(fields)) {
    const j = toJagged(lists, dtype, base);
    offsets ??= j.offsets;
    out[name] = j.content;
  }
  if (offsets === undefined) throw new Error('toCollection needs at least one field');
  return { offsets, fields: out };
}

/** Value of `x` as stored in `dtype` (the test-side model of a typed-array store). */
export function stored(x: number, dtype: Dtype): number {
  return CTORS[dtype].of(x)[0];
}

/** Element-wise identity (NaN equals NaN, 0 and -0 differ). */
export function expectSameValues(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(Array.from(actual).map(show)).toEqual(expected.map(show));
}

/** Lists identity, as {@link expectSameValues}. */
export function expectSameLists(actual: Lists, expected: Lists): void {
  expect(actual.map((l) => l.map(show))).toEqual(expected.map((l) => l.map(show)));
}

/** Element-wise closeness: |a − e| ≤ tol·max(1, |e|), with NaN matching NaN only. */
export function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      expect([i, a]).toEqual([i, e]);
      continue;
    }
    if (!Number.isFinite(e)) {
      expect([i, a]).toEqual([i, e]);
      continue;
    }
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) expect([i, a]).toEqual([i, e]);
  }
}

function show(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (Object.is(v, -0)) return '-0';
  return v;
}
