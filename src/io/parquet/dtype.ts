/**
 * Ristretto dtypes ↔ typed-array constructors (shared by the Parquet, Arrow and RNTuple modules; type-only
 * import of hyparquet, so the others pull in no Parquet code), and Parquet physical/logical types → dtypes.
 */
import type { SchemaElement } from 'hyparquet';
import type { NumericArray } from '../../columnar/types.ts';
import type { DType } from '../reader.ts';

export type NumericArrayConstructor = {
  new (n: number): NumericArray;
  new (buf: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
  readonly BYTES_PER_ELEMENT: number;
};

const ARRAY_OF: Record<DType, NumericArrayConstructor> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  // 64-bit integers decode to float64, exact up to 2^53 (see reader.ts).
  int64: Float64Array,
  uint64: Float64Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** The typed-array constructor holding values of `dtype`. */
export function arrayTypeOf(dtype: DType): NumericArrayConstructor {
  return ARRAY_OF[dtype];
}

/** Whether `s` names a Ristretto dtype (e.g. one read back from file metadata). */
export function isDType(s: string): s is DType {
  return Object.hasOwn(ARRAY_OF, s);
}

/** The dtype a typed array most plausibly holds, for columns written without explicit dtypes. */
export function dtypeOfArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int8Array) return 'int8';
  return 'uint8';
}

/** Value stored for a null element: NaN for floating point, 0 otherwise (typed arrays have no null). */
export function nullValueOf(dtype: DType): number {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'int64' || dtype === 'uint64' ? NaN : 0;
}

/** The Ristretto dtype of a primitive Parquet leaf, or undefined when it is not numeric (strings, INT96, decimals...). */
export function dtypeOfElement(el: SchemaElement): DType | undefined {
  const lt = el.logical_type;
  const ct = el.converted_type;
  if (ct === 'DECIMAL' || lt?.type === 'DECIMAL' || lt?.type === 'FLOAT16') return undefined;
  if (lt && lt.type !== 'INTEGER') return undefined; // dates, timestamps, strings, ...
  switch (el.type) {
    case 'BOOLEAN':
      return 'bool';
    case 'FLOAT':
      return 'float32';
    case 'DOUBLE':
      return 'float64';
    case 'INT32': {
      if (lt?.type === 'INTEGER') {
        const s = lt.isSigned;
        if (lt.bitWidth === 8) return s ? 'int8' : 'uint8';
        if (lt.bitWidth === 16) return s ? 'int16' : 'uint16';
        return s ? 'int32' : 'uint32';
      }
      if (ct === 'INT_8') return 'int8';
      if (ct === 'UINT_8') return 'uint8';
      if (ct === 'INT_16') return 'int16';
      if (ct === 'UINT_16') return 'uint16';
      if (ct === 'UINT_32') return 'uint32';
      if (ct === undefined || ct === 'INT_32') return 'int32';
      return undefined; // DATE, TIME_MILLIS
    }
    case 'INT64': {
      if (lt?.type === 'INTEGER') return lt.isSigned ? 'int64' : 'uint64';
      if (ct === 'UINT_64') return 'uint64';
      if (ct === undefined || ct === 'INT_64') return 'int64';
      return undefined; // timestamps
    }
    default:
      return undefined;
  }
}
