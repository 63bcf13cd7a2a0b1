/**
 * Ristretto dtype ↔ Arrow type. Every dtype is stored as the Arrow type of the same name, so pyarrow and
 * other readers see the types the source file had: `bool` as Bool (bit-packed), `int64` / `uint64` as
 * Int64 / Uint64. Columns whose in-memory form matches (floats, 8–32-bit integers) are written and read
 * without a copy; bool (one byte per value in memory) and 64-bit integers (Float64Array in memory, exact
 * up to 2^53) are converted on write and on read. The dtype is also kept in the field metadata under
 * `ristretto:dtype`.
 */
import {
  Bool,
  type DataType,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
} from 'apache-arrow';
import type { DType } from '../reader.ts';

export { DTYPE_KEY, dtypeOfArrow } from './dtype.ts';

/** Arrow type used to store `dtype`. */
export function arrowTypeOf(dtype: DType): DataType {
  switch (dtype) {
    case 'bool':
      return new Bool();
    case 'uint8':
      return new Uint8();
    case 'int8':
      return new Int8();
    case 'int16':
      return new Int16();
    case 'uint16':
      return new Uint16();
    case 'int32':
      return new Int32();
    case 'uint32':
      return new Uint32();
    case 'int64':
      return new Int64();
    case 'uint64':
      return new Uint64();
    case 'float64':
      return new Float64();
    case 'float32':
      return new Float32();
  }
}
