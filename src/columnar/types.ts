/**
 * Memory description of Ristretto's columnar data, in Arrow's terms: a flat column is a typed array;
 * a jagged (list) column is `offsets` (Int32Array, length n+1) plus a typed `content` array;
 * a collection (Muon, Jet) is a record of jagged fields that share one offsets array.
 *
 * These types describe memory only; kernels live in their own modules and never allocate per event.
 */

/** Any numeric typed array a column may hold. 64-bit integers are stored as Float64Array (exact to 2^53). */
export type NumericArray =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

/** A boolean mask: one byte per element, 0 or 1. */
export type Mask = Uint8Array;

/** A flat (one value per event) column. */
export type FlatColumn<T extends NumericArray = NumericArray> = T;

/** A jagged column: event i owns `content[offsets[i] .. offsets[i+1])`. */
export interface Jagged<T extends NumericArray = NumericArray> {
  readonly offsets: Int32Array;
  readonly content: T;
}

/**
 * Jagged columns that hold the bytes of one string per event (ROOT `char*`, TString, std::string): the events
 * view marks them when it hands them out, so code that turns columns into numbers (fused expressions,
 * `ristretto draw`) can refuse them instead of computing with character codes. A WeakSet, not a field, so the
 * column keeps the plain `Jagged` shape every kernel reads.
 */
const stringColumns = new WeakSet<object>();

/** Mark `c` as the bytes of one string per event (see {@link isStringColumn}). */
export function markStringColumn<C extends object>(c: C): C {
  stringColumns.add(c);
  return c;
}

/**
 * True for a column the events view handed out as a string branch (bytes, decode with `stringsOf`).
 *
 * @example
 * ```ts
 * if (isStringColumn(events.column('name'))) console.log(stringsOf(events.column('name') as Jagged));
 * ```
 */
export function isStringColumn(c: unknown): boolean {
  return typeof c === 'object' && c !== null && stringColumns.has(c);
}

/** A per-event record of jagged fields sharing one offsets array (e.g. Muon.{pt,eta,phi,mass,charge}). */
export interface Collection {
  readonly offsets: Int32Array;
  readonly fields: Readonly<Record<string, NumericArray>>;
}

/** Number of events in a jagged column or collection. */
export function lengthOf(x: Jagged | Collection): number {
  return x.offsets.length - 1;
}

/** Any column of a chunk: flat (one value per event), jagged, or a collection. */
export type Column = FlatColumn | Jagged | Collection;

/**
 * One value per event that may be missing (the first jet of an event without jets, the element an argmin chose
 * in an empty list). Missing entries hold `NaN` in `values` and 0 in `valid`, so both styles of test work.
 */
export interface Optional {
  readonly values: Float64Array;
  readonly valid: Mask;
}

/**
 * Index lists of candidates built within one collection (pairs, triples) or across two (cartesian pairs): event i
 * owns candidates `offsets[i] .. offsets[i+1])`; `i0[k]`, `i1[k]` (and `i2[k]` for triples) are global indices into
 * the content of the collection(s) they were built from, so fields are gathered only when a kernel needs them.
 */
export interface Combinations {
  readonly offsets: Int32Array;
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly i2?: Int32Array;
}
