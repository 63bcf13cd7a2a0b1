/**
 * Decoding of Parquet value runs (PLAIN, dictionary, RLE booleans, and the rarer encodings through
 * hyparquet's decoders) into typed arrays. One function per call decides the path; loops never switch
 * on type per element.
 */
import type { Encoding, ParquetType } from 'hyparquet';
import { deltaBinaryUnpack } from 'hyparquet/src/delta.js';
import { byteStreamSplit } from 'hyparquet/src/encoding.js';
import type { NumericArray } from '../../columnar/types.ts';
import { ParquetFormatError, ParquetUnsupportedError } from './errors.ts';
import { decodeHybrid } from './hybrid.ts';

/** Bytes per PLAIN value of a fixed-width physical type (booleans are bit-packed: 0). */
export function plainWidth(type: ParquetType): number {
  switch (type) {
    case 'INT32':
    case 'FLOAT':
      return 4;
    case 'INT64':
    case 'DOUBLE':
      return 8;
    default:
      return 0;
  }
}

function alignedView<T>(
  bytes: Uint8Array,
  pos: number,
  count: number,
  width: number,
  make: (buf: ArrayBufferLike, off: number, n: number) => T,
): T {
  if (pos + count * width > bytes.length)
    throw new ParquetFormatError(`page holds fewer than the ${count} values its header announces`);
  const off = bytes.byteOffset + pos;
  if (off % width === 0) return make(bytes.buffer, off, count);
  return make(bytes.slice(pos, pos + count * width).buffer, 0, count);
}

/** PLAIN-encoded `count` values at `bytes[pos...]`, in the natural typed array of the physical type. */
export function decodePlain(
  bytes: Uint8Array,
  pos: number,
  count: number,
  type: ParquetType,
  unsigned64: boolean,
): NumericArray {
  switch (type) {
    case 'FLOAT':
      return alignedView(bytes, pos, count, 4, (b, o, n) => new Float32Array(b, o, n));
    case 'DOUBLE':
      return alignedView(bytes, pos, count, 8, (b, o, n) => new Float64Array(b, o, n));
    case 'INT32':
      return alignedView(bytes, pos, count, 4, (b, o, n) => new Int32Array(b, o, n));
    case 'INT64': {
      // Two 32-bit halves instead of a BigInt per value: hi · 2^32 is exact in a double and the one
      // rounding of the sum gives the same nearest double as Number(BigInt) (exact below 2^53).
      const words = alignedView(bytes, pos, 2 * count, 4, (b, o, n) => new Uint32Array(b, o, n));
      const out = new Float64Array(count);
      if (unsigned64) for (let i = 0; i < count; i++) out[i] = words[2 * i + 1] * 4294967296 + words[2 * i];
      else for (let i = 0; i < count; i++) out[i] = (words[2 * i + 1] | 0) * 4294967296 + words[2 * i];
      return out;
    }
    case 'BOOLEAN': {
      if (pos + ((count + 7) >> 3) > bytes.length)
        throw new ParquetFormatError(`page holds fewer than the ${count} booleans its header announces`);
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = (bytes[pos + (i >> 3)] >> (i & 7)) & 1;
      return out;
    }
    default:
      throw new ParquetUnsupportedError(`physical type ${type} is not numeric`);
  }
}

let indexScratch = new Int32Array(1024);

/** `out[at + i] = dictionary[idx[i]]` for i < count; returns the largest index (unsigned) for the caller to check. */
function gather(dictionary: NumericArray, idx: Int32Array, count: number, out: NumericArray, at: number): number {
  // 64-bit integer columns (stored counts such as nJet, 20 M of them in a flat file) get a loop of their
  // own: this one sees every array type and its element accesses are several times slower.
  if (dictionary instanceof Float64Array && out instanceof Float64Array)
    return gather64(dictionary, idx, count, out, at);
  let max = 0;
  for (let i = 0; i < count; i++) {
    const k = idx[i] >>> 0; // a negative index (32-bit width) compares as huge
    if (k > max) max = k;
    out[at + i] = dictionary[k];
  }
  return max;
}

/** `gather` for float64 dictionaries and columns. */
function gather64(dictionary: Float64Array, idx: Int32Array, count: number, out: Float64Array, at: number): number {
  let max = 0;
  for (let i = 0; i < count; i++) {
    const k = idx[i] >>> 0;
    if (k > max) max = k;
    out[at + i] = dictionary[k];
  }
  return max;
}

/**
 * Decode the values of one data page (`count` non-null values) in `encoding`.
 * `dictionary` is the decoded dictionary page for dictionary encodings. With `into`, dictionary-encoded
 * values are written to `into[at, at + count)` and `into` is returned (no array of their own, no copy:
 * a stored count column such as `nJet` is one such page per row group); other encodings ignore it.
 */
export function decodeValues(
  bytes: Uint8Array,
  pos: number,
  count: number,
  encoding: Encoding,
  type: ParquetType,
  unsigned64: boolean,
  dictionary: NumericArray | undefined,
  into?: NumericArray,
  at = 0,
): NumericArray {
  switch (encoding) {
    case 'PLAIN':
      return decodePlain(bytes, pos, count, type, unsigned64);
    case 'PLAIN_DICTIONARY':
    case 'RLE_DICTIONARY': {
      if (!dictionary) throw new ParquetFormatError('dictionary-encoded page without a dictionary page');
      if (pos >= bytes.length && count)
        throw new ParquetFormatError('dictionary-encoded page ends before its index bit width');
      const bitWidth = bytes[pos];
      if (indexScratch.length < count) indexScratch = new Int32Array(count * 2);
      const idx = indexScratch;
      decodeHybrid(bytes, pos + 1, bytes.length, bitWidth, idx, count);
      // Same constructor as the dictionary, so the gather loop is monomorphic. A damaged index is found
      // after the loop: the values written by then belong to a chunk that is thrown away with the error.
      const out = into ?? new (dictionary.constructor as new (n: number) => NumericArray)(count);
      const max = gather(dictionary, idx, count, out, into ? at : 0);
      if (count && max >= dictionary.length)
        throw new ParquetFormatError(`dictionary index ${max} beyond dictionary of ${dictionary.length} values`);
      return out;
    }
    case 'RLE': {
      if (type !== 'BOOLEAN') throw new ParquetUnsupportedError(`RLE encoding of ${type} values`);
      if (pos + 4 > bytes.length) throw new ParquetFormatError('RLE booleans end before their length');
      const len = (bytes[pos] | (bytes[pos + 1] << 8) | (bytes[pos + 2] << 16) | (bytes[pos + 3] << 24)) >>> 0;
      if (pos + 4 + len > bytes.length) throw new ParquetFormatError(`RLE booleans of ${len} bytes run past the page`);
      const out = new Uint8Array(count);
      decodeHybrid(bytes, pos + 4, pos + 4 + len, 1, out, count);
      return out;
    }
    case 'BYTE_STREAM_SPLIT':
    case 'DELTA_BINARY_PACKED': {
      const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: pos };
      let decoded;
      if (encoding === 'BYTE_STREAM_SPLIT') {
        decoded = byteStreamSplit(reader, count, type, undefined);
      } else {
        decoded = type === 'INT32' ? new Int32Array(count) : new BigInt64Array(count);
        deltaBinaryUnpack(reader, count, decoded);
      }
      if (decoded instanceof BigInt64Array || decoded instanceof BigUint64Array) {
        const out = new Float64Array(count);
        for (let i = 0; i < count; i++) out[i] = Number(unsigned64 ? BigInt.asUintN(64, decoded[i]) : decoded[i]);
        return out;
      }
      return decoded as NumericArray;
    }
    default:
      throw new ParquetUnsupportedError(`Parquet encoding ${encoding} is not supported`);
  }
}
