/**
 * A growable typed column for per-event outputs (selected event numbers, a skimmed pt column) that are
 * concatenated chunk after chunk. Concatenating plain typed arrays copies everything on each merge
 * (quadratic over a run); this keeps spare capacity and doubles it, so appends are amortized linear.
 */
import { MergeError } from './errors.ts';
import type { InPlaceAddable, Copyable } from './protocol.ts';
import {
  allocLike,
  type AnyTypedArray,
  type TypedArrayConstructor,
  typedArrayConstructor,
  typedArrayName,
  typedArrayNames,
} from './typed.ts';

const MIN_CAPACITY = 16;

const BRAND = Symbol.for('ristretto.ColumnAccumulator');
const plainInstanceOf = Function.prototype[Symbol.hasInstance];

/**
 * A typed array that grows by appending. The order of appends is kept (this is the one non-commutative
 * merge in `accumulate`).
 *
 * @example
 * ```ts
 * const ids = new ColumnAccumulator(Int32Array);
 * ids.append(Int32Array.of(3, 5)).append(Int32Array.of(8));
 * ids.values; // Int32Array [3, 5, 8] (a view; copy with toArray() to keep it)
 * ```
 */
export class ColumnAccumulator<T extends AnyTypedArray = Float64Array>
  implements InPlaceAddable<ColumnAccumulator<T>>, Copyable<ColumnAccumulator<T>>
{
  private buf: T;
  private len: number;
  /** Brand: see `Symbol.hasInstance` below. */
  protected readonly [BRAND] = true;

  /**
   * `x instanceof ColumnAccumulator` holds for columns made by any copy of this module: a processor
   * bundle carries its own copy of Ristretto, and its columns are merged and encoded by the runner's.
   */
  static [Symbol.hasInstance](x: unknown): boolean {
    // A subclass (this !== ColumnAccumulator) tests plainly.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about
    if (this !== ColumnAccumulator) return plainInstanceOf.call(this, x);
    return typeof x === 'object' && x !== null && (x as { [BRAND]?: unknown })[BRAND] === true;
  }

  /** An empty column of the given kind (constructor or its name, e.g. `Float32Array` or `"Float32Array"`). */
  constructor(kind: TypedArrayConstructor<T> | string, capacity = 0) {
    const ctor = typeof kind === 'string' ? typedArrayConstructor(kind) : kind;
    if (!ctor) {
      throw new MergeError(
        `unknown typed array kind "${String(kind)}"`,
        { kind },
        `use one of ${typedArrayNames().join(', ')}`,
      );
    }
    this.buf = new ctor(capacity) as T;
    this.len = 0;
  }

  /** A column holding a copy of `values`. */
  static from<T extends AnyTypedArray>(values: T): ColumnAccumulator<T> {
    const c = new ColumnAccumulator<T>(typedArrayName(values), values.length);
    return c.append(values);
  }

  /**
   * A column that adopts `values` as its storage without copying (the decoder uses this for zero-copy
   * views). Capacity equals length, so the first append reallocates and never writes into `values`.
   */
  static wrap<T extends AnyTypedArray>(values: T): ColumnAccumulator<T> {
    const c = new ColumnAccumulator<T>(typedArrayName(values), 0);
    c.buf = values;
    c.len = values.length;
    return c;
  }

  /** Number of elements appended so far. */
  get length(): number {
    return this.len;
  }

  /** Allocated elements (at least `length`). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Kind name of the elements, e.g. "Float32Array". */
  get kind(): string {
    return typedArrayName(this.buf);
  }

  /** The elements as a view into the internal storage; it is invalidated by the next append that grows. */
  get values(): T {
    return this.buf.subarray(0, this.len) as T;
  }

  /** A copy of the elements with its own exact-size buffer. */
  toArray(): T {
    return this.buf.slice(0, this.len) as T;
  }

  /** Ensure room for `extra` more elements without further reallocation. */
  reserve(extra: number): this {
    const need = this.len + extra;
    if (need > this.buf.length) {
      const cap = Math.max(need, this.buf.length * 2, MIN_CAPACITY);
      const next = allocLike(this.buf, cap);
      (next as Uint8Array).set(this.values as Uint8Array);
      this.buf = next;
    }
    return this;
  }

  /** Append the elements of a typed array or another column of the same kind. */
  append(values: T | ColumnAccumulator<T>): this {
    const src = values instanceof ColumnAccumulator ? values.values : values;
    const kind = typedArrayName(src);
    if (kind !== this.kind) {
      throw new MergeError(
        `cannot append ${kind} to a ColumnAccumulator of ${this.kind}`,
        { expected: this.kind, got: kind },
        `convert the values to ${this.kind} first (one column keeps one element type)`,
      );
    }
    // Read the source length before reserving: appending a column to itself must copy the old contents.
    const n = src.length;
    this.reserve(n);
    (this.buf as Uint8Array).set(
      (values instanceof ColumnAccumulator ? values.buf.subarray(0, n) : src) as Uint8Array,
      this.len,
    );
    this.len += n;
    return this;
  }

  /** Append one element (a bigint for the 64-bit integer kinds). */
  push(value: T extends BigInt64Array | BigUint64Array ? bigint : number): this {
    this.reserve(1);
    (this.buf as unknown as (number | bigint)[])[this.len++] = value;
    return this;
  }

  /** Append `other` in place and return `this` (what `accumulate` calls). */
  iadd(other: ColumnAccumulator<T>): ColumnAccumulator<T> {
    return this.append(other);
  }

  /** A new column with `this` followed by `other`. */
  add(other: ColumnAccumulator<T>): ColumnAccumulator<T> {
    const c = new ColumnAccumulator<T>(this.kind, this.len + other.len);
    return c.append(this).append(other);
  }

  /** Console/inspect output shows the elements, not the spare capacity. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ColumnAccumulator<${this.kind}>(${this.len}) [${Array.from(this.values.subarray(0, 10), String).join(', ')}${this.len > 10 ? ', …' : ''}]`;
  }

  /** A deep copy with exact capacity. */
  copy(): ColumnAccumulator<T> {
    return ColumnAccumulator.from(this.values);
  }
}
