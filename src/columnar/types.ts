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
