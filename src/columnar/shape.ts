/**
 * Recognising and checking column shapes. Every check is O(1) per column (O(n) only when two offsets arrays
 * must be compared), so kernels can afford to validate their inputs on every call.
 */
import type { Collection, Combinations, Jagged, NumericArray } from './types.ts';
import { FieldNotFoundError, InvalidArgumentError, LengthMismatchError, OffsetsMismatchError } from './errors.ts';

/** Constructor of any {@link NumericArray}, used to allocate an output of the same dtype as an input. */
export type NumericArrayConstructor<T extends NumericArray = NumericArray> = {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

/** True for a flat column (a typed array). */
export function isFlat(x: unknown): x is NumericArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** True for a jagged column (`offsets` + `content`). */
export function isJagged(x: unknown): x is Jagged {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && 'offsets' in x && 'content' in x;
}

/** True for a collection (`offsets` + `fields`). */
export function isCollection(x: unknown): x is Collection {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && 'offsets' in x && 'fields' in x;
}

/** True for index lists made by `combinations` / `cartesian`. */
export function isCombinations(x: unknown): x is Combinations {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && 'offsets' in x && 'i0' in x && 'i1' in x;
}

/** Constructor of a typed array, to allocate an output of the same dtype once per call. */
export function ctorOf<T extends NumericArray>(a: T): NumericArrayConstructor<T> {
  return a.constructor as NumericArrayConstructor<T>;
}

/** Number of events described by an offsets array; throws if it is not a valid offsets array. */
export function eventsOf(operation: string, what: string, offsets: Int32Array): number {
  if (!(offsets instanceof Int32Array) || offsets.length < 1) {
    throw new InvalidArgumentError(
      `${operation}: ${what} offsets must be an Int32Array of length n+1 (at least 1)`,
      { operation, what, length: (offsets as { length?: number })?.length },
      'Build jagged columns as { offsets: Int32Array [0, ..., total], content }.',
    );
  }
  return offsets.length - 1;
}

/** Checks that `content` covers the range the offsets point to; returns the number of events. */
export function checkContent(operation: string, what: string, offsets: Int32Array, content: ArrayLike<number>): number {
  const n = eventsOf(operation, what, offsets);
  if (content.length < offsets[n]) {
    throw new LengthMismatchError(
      operation,
      `${what} content`,
      offsets[n],
      content.length,
      'The last offset must not exceed the content length; build offsets from the same list lengths as the content.',
    );
  }
  return n;
}

/** Validates a jagged column; returns its number of events. */
export function checkJagged(operation: string, what: string, x: Jagged): number {
  return checkContent(operation, what, x.offsets, x.content);
}

/** Validates a flat column against an expected number of events. */
export function checkFlat(operation: string, what: string, x: ArrayLike<number>, events: number): void {
  if (x.length !== events) throw new LengthMismatchError(operation, what, events, x.length);
}

/**
 * Checks that two offsets arrays describe the same list lengths, so that elements pair up one to one.
 * The same array object passes at once; otherwise the values are compared.
 */
export function checkSameOffsets(operation: string, a: Int32Array, b: Int32Array): void {
  if (a === b) return;
  const n = a.length - 1;
  if (b.length !== a.length) throw new LengthMismatchError(operation, 'second jagged input (events)', n, b.length - 1);
  for (let i = 0; i <= n; i++) {
    if (a[i] !== b[i]) {
      const e = i === 0 ? 0 : i - 1;
      throw new OffsetsMismatchError(operation, e, a[e + 1] - a[e], b[e + 1] - b[e]);
    }
  }
}

/** A field of a collection, checked to exist and to cover the collection's content range. */
export function fieldOf(operation: string, c: Collection, name: string): NumericArray {
  const f = c.fields[name];
  if (f === undefined) throw new FieldNotFoundError(operation, name, Object.keys(c.fields));
  checkContent(operation, `field '${name}'`, c.offsets, f);
  return f;
}
