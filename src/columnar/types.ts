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
