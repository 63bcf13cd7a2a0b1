/**
 * The Arrow reader's view of types without loading apache-arrow (imported only when an Arrow file is
 * opened): the dtype metadata key and the type ids of the Arrow format (Schema.fbs `Type` union, the
 * values of apache-arrow's `Type` enum) that reading needs.
 */
import type { DType } from '../reader.ts';

export const DTYPE_KEY = 'ristretto:dtype';

/** Arrow format type ids (Schema.fbs): Int, FloatingPoint, Bool, List. */
export const TYPE_INT = 2;
export const TYPE_FLOAT = 3;
export const TYPE_BOOL = 6;
export const TYPE_LIST = 12;

/** dtype of an Arrow primitive type from another writer (no Ristretto metadata), or undefined when not numeric. */
export function dtypeOfArrow(t: { readonly typeId: number }): DType | undefined {
  switch (t.typeId) {
    case TYPE_BOOL:
      return 'bool';
    case TYPE_INT: {
      const { bitWidth, isSigned } = t as unknown as { bitWidth: number; isSigned: boolean };
      if (bitWidth === 8) return isSigned ? 'int8' : 'uint8';
      if (bitWidth === 16) return isSigned ? 'int16' : 'uint16';
      if (bitWidth === 32) return isSigned ? 'int32' : 'uint32';
      return isSigned ? 'int64' : 'uint64';
    }
    case TYPE_FLOAT: {
      const { precision } = t as unknown as { precision: number };
      return precision === 1 ? 'float32' : precision === 2 ? 'float64' : undefined;
    }
    default:
      return undefined;
  }
}
