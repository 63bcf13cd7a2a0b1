/**
 * Accumulators: merging chunk outputs (`accumulate`, `merged`), moving them between threads, processes
 * and hosts (`encode`, `decode`), and the per-chunk analysis helpers whose results end up in them
 * (`PackedSelection`, `Weights`).
 */
export { accumulate, accumulateAll, copyAccumulator, describeType, merged } from './merge.ts';
export { decode, encode, type DecodeOptions } from './codec.ts';
export { ColumnAccumulator } from './column.ts';
export { PackedSelection, type Cutflow, type CutflowOptions, type NMinusOne } from './selection.ts';
export { Weights, WeightStatistics, type WeightVariations } from './weights.ts';
export {
  binaryDecoder,
  isAddable,
  isBinarySerializable,
  registerBinaryType,
  registeredBinaryTags,
  type Addable,
  type BinaryDecoder,
  type BinarySerializable,
  type Copyable,
  type InPlaceAddable,
} from './protocol.ts';
export {
  AccumulateError,
  CodecError,
  MergeError,
  SelectionError,
  UnknownBinaryTypeError,
  WeightsError,
} from './errors.ts';
export type { AnyTypedArray, TypedArrayConstructor } from './typed.ts';
