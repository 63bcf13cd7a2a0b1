/**
 * Decoded baskets → one column for an entry range: each basket contributes the entries
 * [from, to) it owns inside the range; flat values are copied and byte-swapped straight into the output,
 * jagged ones get their offsets rebuilt from the basket's byte offsets.
 */
import type { Jagged, NumericArray } from '../../columnar/types.ts';
import { brokenInvariant } from '../../errors/index.ts';
import type { DType } from '../reader.ts';
import { BasketFormatError, type BasketData } from './basket.ts';
import { allocate, decoderFor, type Decoder } from './convert.ts';

/** The part of one basket that falls inside the requested range (basket-local entry numbers). */
export interface BasketSlice {
  readonly basket: BasketData;
  readonly from: number;
  readonly to: number;
}

/** Fixed-size entries of `perEntry` elements each, concatenated (flat when perEntry is 1). */
export function assembleFixed(
  dtype: DType,
  itemSize: number,
  perEntry: number,
  slices: readonly BasketSlice[],
  n: number,
  decoder?: Decoder,
): NumericArray {
  const out = allocate(dtype, n * perEntry);
  const decode = decoder ?? decoderFor(dtype);
  const entryBytes = itemSize * perEntry;
  let pos = 0;
  for (const { basket, from, to } of slices) {
    if (basket.data.length !== basket.entries * entryBytes) {
      throw new BasketFormatError(
        `basket holds ${basket.data.length} data bytes, expected ${basket.entries} entries × ${entryBytes} bytes`,
      );
    }
    const count = (to - from) * perEntry;
    decode(basket.data.subarray(from * entryBytes, to * entryBytes), out, pos, count);
    pos += count;
  }
  return out;
}

/** `x[3]`-style branches as jagged columns with constant counts. */
export function fixedAsJagged(content: NumericArray, perEntry: number, n: number): Jagged {
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = i * perEntry;
  return { offsets, content };
}

/** Variable-length entries, using each basket's per-entry byte offsets. */
export function assembleJagged(dtype: DType, itemSize: number, slices: readonly BasketSlice[], n: number): Jagged {
  const offsets = new Int32Array(n + 1);
  const mask = itemSize - 1; // item sizes are powers of two
  const shift = Math.log2(itemSize);
  let total = 0;
  let j = 0;
  for (const { basket, from, to } of slices) {
    const o = basket.offsets;
    if (!o) throw new BasketFormatError('variable-length basket has no entry offsets');
    for (let i = from; i < to; i++) {
      const bytes = o[i + 1] - o[i];
      if (bytes & mask)
        throw new BasketFormatError(`entry ${i} of the basket has ${bytes} bytes, not a multiple of ${itemSize}`);
      total += bytes >>> shift;
      offsets[++j] = total;
    }
    if (total > 0x7fffffff)
      throw new BasketFormatError('more than 2^31 elements in one read; read a smaller entry range');
  }
  const content = allocate(dtype, total);
  const decode = decoderFor(dtype);
  let pos = 0;
  for (const { basket, from, to } of slices) {
    const o = basket.offsets ?? brokenInvariant('a jagged basket decoded without its offsets');
    const bytes = basket.data.subarray(o[from], o[to]);
    const count = bytes.length >>> shift;
    decode(bytes, content, pos, count);
    pos += count;
  }
  return { offsets, content };
}

/**
 * Byte offsets for a basket without its own offset table, from the count branch's values for the
 * basket's entries (each entry `header` bytes, then its values). The counts must account for every
 * data byte, or the basket is inconsistent.
 */
export function offsetsFromCounts(counts: NumericArray, itemSize: number, dataBytes: number, header = 0): Int32Array {
  const offsets = new Int32Array(counts.length + 1);
  let b = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!(c >= 0) || c !== Math.floor(c)) throw new BasketFormatError(`count branch holds ${c} at basket entry ${i}`);
    b += header + c * itemSize;
    offsets[i + 1] = b;
  }
  if (b !== dataBytes)
    throw new BasketFormatError(`count branch accounts for ${b} bytes, the basket holds ${dataBytes}`);
  return offsets;
}
