/**
 * Errors raised by the accumulate module. Each carries the key path or byte position where it happened,
 * so a failed merge of a deeply nested output can be traced to the one mismatched entry.
 */
import { RistrettoError } from '../errors/index.ts';
import { CodecError } from '../io/codecs/errors.ts';

/** Base of every error raised under `src/accumulate`. */
export class AccumulateError extends RistrettoError {}

/** Two accumulators could not be merged (mismatched types, unequal strings, an Addable's own failure). */
export class MergeError extends AccumulateError {}

/**
 * A value could not be encoded, or bytes could not be decoded: Ristretto's one `CodecError`, the same class
 * for the binary accumulator codec, the FaaS frame and value codec (src/faas/codec.ts) and the compression
 * codecs of the readers (src/io/codecs), so `e instanceof CodecError` catches every one of them.
 */
export { CodecError };

/** A binary type tag has no registered decoder on this side. */
export class UnknownBinaryTypeError extends CodecError {}

/** Misuse of `PackedSelection` (unknown name, wrong mask length, too many selections). */
export class SelectionError extends AccumulateError {}

/** Misuse of `Weights` (unknown variation, wrong array length, duplicate name). */
export class WeightsError extends AccumulateError {}

/** Render a key path the way error messages show it: `"muons/pt"`, or `top level` for the root. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'top level' : JSON.stringify(path.join('/'));
}
