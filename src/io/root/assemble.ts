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

/**
 * Variable-length entries, using each basket's per-entry byte offsets (decoded, or the stored table read
 * in place). `shareWith` is another column's offsets for the same entries (Jet_pt's, when this is
 * Jet_eta): when the counts are the same, that array is returned again instead of an equal copy, which
 * saves the allocation and lets the events view see at once that the two fields line up.
 */
export function assembleJagged(
  dtype: DType,
  itemSize: number,
  slices: readonly BasketSlice[],
  n: number,
  shareWith?: Int32Array,
): Jagged {
  const mask = itemSize - 1; // item sizes are powers of two
  const shift = Math.log2(itemSize);
  // Byte range [first, last) of each slice inside its basket's data, for the copy below.
  const ranges = new Int32Array(2 * slices.length);
  const cmp = shareWith && shareWith.length === n + 1 && shareWith[0] === 0 ? shareWith : undefined;
  if (cmp && sameSpans(slices, cmp, shift, mask, ranges))
    return { offsets: cmp, content: copyContent(dtype, slices, ranges, cmp[n], shift) };
  const built = scratchOffsets(n + 1);
  // While the counts equal `shareWith`'s, nothing is written; from the first difference on, `built` is.
  let same = cmp !== undefined;
  built[0] = 0;
  let total = 0;
  let j = 0;
  for (let s = 0; s < slices.length; s++) {
    const { basket, from, to } = slices[s];
    const border = basket.data.length;
    const table = basket.table;
    let d: Int32Array;
    let rebase = 0;
    if (table) {
      // The stored positions, byte-swapped into a warm scratch buffer (no fresh pages, one native swap).
      const cnt = basket.entries;
      d = tableScratch(cnt + 1);
      new Uint8Array(d.buffer, 0, 4 * cnt).set(table.bytes);
      if (LITTLE_ENDIAN) Buffer.from(d.buffer, 0, 4 * cnt).swap32();
      rebase = table.keylen;
      d[cnt] = border + rebase;
    } else d = basket.offsets ?? throwNoOffsets();
    let prev = d[from] - rebase;
    if (from === 0 && prev !== 0) throw new BasketFormatError(`first entry starts at data byte ${prev}, not 0`);
    if (prev < 0 || prev > border)
      throw new BasketFormatError(`entry ${from} starts at data byte ${prev}, outside the ${border} data bytes`);
    ranges[2 * s] = prev;
    for (let i = from; i < to; i++) {
      const next = d[i + 1] - rebase;
      const bytes = next - prev;
      if (bytes < 0 || next > border || bytes & mask) throw badEntry(i, bytes, itemSize);
      total += bytes >>> shift;
      if (same) {
        if ((cmp as Int32Array)[++j] !== total) {
          same = false;
          built.set((cmp as Int32Array).subarray(0, j));
          built[j] = total;
        }
      } else built[++j] = total;
      prev = next;
    }
    ranges[2 * s + 1] = prev;
    if (total > 0x7fffffff)
      throw new BasketFormatError('more than 2^31 elements in one read; read a smaller entry range');
  }
  if (j !== n) brokenInvariant(`basket slices cover ${j} entries, the read ${n}`);
  const content = copyContent(dtype, slices, ranges, total, shift);
  const offsets = same ? (cmp as Int32Array) : built === scratch ? built.slice(0, n + 1) : built;
  return { offsets, content };
}

/** The values of every slice's byte range, `total` elements, into a fresh column (swapped to native order). */
function copyContent(
  dtype: DType,
  slices: readonly BasketSlice[],
  ranges: Int32Array,
  total: number,
  shift: number,
): NumericArray {
  const content = allocate(dtype, total);
  const decode = decoderFor(dtype);
  let pos = 0;
  for (let s = 0; s < slices.length; s++) {
    const bytes = slices[s].basket.data.subarray(ranges[2 * s], ranges[2 * s + 1]);
    const count = bytes.length >>> shift;
    decode(bytes, content, pos, count);
    pos += count;
  }
  return content;
}

/**
 * Whether a field can take `cmp` — the offsets of another field of its collection over the same entries
 * (Jet_pt's, for Jet_eta) — without a look at each entry: ROOT sizes every field of `Jet_*[nJet]` by the
 * same counter, so only where each slice starts and ends in its basket is read (two positions of the
 * stored table, or none for a whole basket) and the slice's element count checked against `cmp`'s. Fills
 * `ranges` on success. False sends the caller through the per-entry loop, which finds where the counts
 * differ, or the damage; that loop costs 2.5–5 ns per entry and field, most of the assembly of a
 * many-field collection (bench/RESULTS.md "Session 14").
 */
function sameSpans(
  slices: readonly BasketSlice[],
  cmp: Int32Array,
  shift: number,
  mask: number,
  ranges: Int32Array,
): boolean {
  let j = 0;
  for (let s = 0; s < slices.length; s++) {
    const { basket, from, to } = slices[s];
    const border = basket.data.length;
    const first = from === 0 ? 0 : entryStart(basket, from);
    const last = to === basket.entries ? border : entryStart(basket, to);
    if (from === 0 && entryStart(basket, 0) !== 0) return false;
    if (!(first >= 0 && first <= last && last <= border) || (last - first) & mask) return false;
    const k = j + (to - from);
    if (k >= cmp.length || (last - first) >>> shift !== cmp[k] - cmp[j]) return false;
    ranges[2 * s] = first;
    ranges[2 * s + 1] = last;
    j = k;
  }
  return j === cmp.length - 1;
}

/** Data byte where basket entry `i` starts (i < entries), from its decoded offsets or its stored table. */
function entryStart(basket: BasketData, i: number): number {
  const t = basket.table;
  if (!t) return (basket.offsets ?? throwNoOffsets())[i];
  const b = t.bytes;
  return ((b[4 * i] << 24) | (b[4 * i + 1] << 16) | (b[4 * i + 2] << 8) | b[4 * i + 3]) - t.keylen;
}

function throwNoOffsets(): never {
  throw new BasketFormatError('variable-length basket has no entry offsets');
}

function badEntry(i: number, bytes: number, itemSize: number): BasketFormatError {
  return new BasketFormatError(
    bytes < 0
      ? `entry offsets are not increasing within the data at entry ${i}`
      : bytes % itemSize
        ? `entry ${i} of the basket has ${bytes} bytes, not a multiple of ${itemSize}`
        : `entry offsets are not increasing within the data at entry ${i}`,
  );
}

/** Whether this machine stores integers little-endian (every platform Node ships for but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One basket's entry-offset table, swapped to native order; like `scratch` below, it never leaves here. */
let tableBuf = new Int32Array(0);
function tableScratch(n: number): Int32Array {
  if (tableBuf.length < n) tableBuf = new Int32Array(Math.max(n, 2 * tableBuf.length));
  return tableBuf;
}

/**
 * One offsets buffer reused by every jagged read of this thread: offsets that differ from `shareWith` are
 * built here (warm memory, no page faults) and copied once into the array handed out. It never leaves
 * this module, so reusing it cannot change a column a processor kept.
 */
let scratch = new Int32Array(0);
/** Reads larger than this (a whole big file at once) get their own buffer instead of growing the scratch. */
const MAX_SCRATCH = 1 << 22;
function scratchOffsets(n: number): Int32Array {
  if (n > MAX_SCRATCH) return new Int32Array(n);
  if (scratch.length < n) scratch = new Int32Array(Math.min(MAX_SCRATCH, Math.max(n, 2 * scratch.length)));
  return scratch;
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
