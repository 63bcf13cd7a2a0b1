/**
 * Columns from baskets whose entries are not plain arrays of numbers: entries with a header
 * (`T* x; //[n]` members: one flag byte), std::vector<T> (byte count, version, size, values),
 * std::vector<std::vector<T>> and the fields of leaf lists (packed records). Every header is checked
 * against the entry's byte length, so a misread layout throws instead of giving shifted values.
 */
import type { Jagged, NumericArray } from '../../columnar/types.ts';
import type { DoublyJagged, DType } from '../reader.ts';
import type { BasketSlice } from './assemble.ts';
import { BasketFormatError, type BasketData } from './basket.ts';
import { allocate, decoderFor, type Decoder } from './convert.ts';

const K_BYTE_COUNT = 0x40000000;
const K_MEMBERWISE = 0x4000;

/**
 * Thrown for a valid layout this reader does not decode (e.g. member-wise streamed collections). Internal:
 * the reader turns it into an UnsupportedBranchError naming the file, tree and branch (root-reader.ts).
 */
export class UnsupportedLayoutError extends Error {}

/** Entry byte offsets of a basket of std::vector entries, found by following each entry's byte count. */
export function walkByteCounts(basket: BasketData): Int32Array {
  const d = basket.data;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const offsets = new Int32Array(basket.entries + 1);
  let p = 0;
  for (let i = 0; i < basket.entries; i++) {
    if (p + 4 > d.length)
      throw new BasketFormatError(`entry ${i} starts at byte ${p}, past the basket's ${d.length} data bytes`);
    const bc = dv.getUint32(p);
    if (!(bc & K_BYTE_COUNT)) throw new BasketFormatError(`entry ${i} has no byte count (word 0x${bc.toString(16)})`);
    p += (bc & ~K_BYTE_COUNT) + 4;
    if (p > d.length)
      throw new BasketFormatError(`entry ${i} byte count runs past the basket's ${d.length} data bytes`);
    offsets[i + 1] = p;
  }
  if (p !== d.length) throw new BasketFormatError(`entries end at byte ${p}, the basket holds ${d.length} data bytes`);
  return offsets;
}

interface Segments {
  /** Per-entry element counts (vector, counted) or per-entry inner-list counts (vector2). */
  readonly counts: Int32Array;
  /** For vector2: per inner list element counts. */
  readonly innerCounts: number[];
  /** Byte ranges (data array index, start, end) holding the values, in order. */
  readonly ranges: [Uint8Array, number, number][];
  total: number;
}

function checkedVectorHeader(dv: DataView, s: number, e: number, i: number): number {
  if (e - s < 10) throw new BasketFormatError(`entry ${i} has ${e - s} bytes, too short for a std::vector header`);
  const bc = dv.getUint32(s);
  if (!(bc & K_BYTE_COUNT) || (bc & ~K_BYTE_COUNT) + 4 !== e - s)
    throw new BasketFormatError(`entry ${i}: byte count 0x${bc.toString(16)} does not match its ${e - s} bytes`);
  const version = dv.getUint16(s + 4);
  if (version & K_MEMBERWISE) throw new UnsupportedLayoutError('collections streamed member-wise are not supported');
  const n = dv.getInt32(s + 6);
  if (n < 0) throw new BasketFormatError(`entry ${i}: negative size ${n}`);
  return n;
}

/**
 * Decode the entries [from, to) of every slice. `kind`: `counted` (entries of `header` bytes then
 * values, entry offsets required), `vector`, `vector2`.
 */
export function assembleVariable(
  kind: 'counted' | 'vector' | 'vector2',
  dtype: DType,
  itemSize: number,
  header: number,
  slices: readonly BasketSlice[],
  n: number,
  decoder?: Decoder,
): Jagged | DoublyJagged {
  const seg: Segments = { counts: new Int32Array(n), innerCounts: [], ranges: [], total: 0 };
  let j = 0;
  for (const { basket, from, to } of slices) {
    const d = basket.data;
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    let o = basket.offsets;
    if (!o) {
      if (kind === 'counted') throw new BasketFormatError('variable-length basket has no entry offsets');
      o = walkByteCounts(basket);
    }
    for (let i = from; i < to; i++, j++) {
      const s = o[i];
      const e = o[i + 1];
      if (!(s >= 0 && e >= s && e <= d.length))
        throw new BasketFormatError(`entry ${i} bytes [${s}, ${e}) lie outside the basket's ${d.length} data bytes`);
      if (kind === 'counted') {
        const len = e - s - header;
        if (len < 0 || len % itemSize)
          throw new BasketFormatError(`entry ${i} has ${e - s} bytes, not ${header} + a multiple of ${itemSize}`);
        if (header === 1) {
          const flag = d[s];
          if (flag > 1 || (flag === 0 && len > 0))
            throw new BasketFormatError(`entry ${i}: array flag byte ${flag} with ${len / itemSize} values`);
        }
        seg.counts[j] = len / itemSize;
        seg.total += len / itemSize;
        if (len > 0) seg.ranges.push([d, s + header, e]);
      } else if (kind === 'vector') {
        const cnt = checkedVectorHeader(dv, s, e, i);
        if (10 + cnt * itemSize !== e - s)
          throw new BasketFormatError(`entry ${i}: ${cnt} values of ${itemSize} bytes do not fill its ${e - s} bytes`);
        seg.counts[j] = cnt;
        seg.total += cnt;
        if (cnt > 0) seg.ranges.push([d, s + 10, e]);
      } else {
        const outer = checkedVectorHeader(dv, s, e, i);
        let p = s + 10;
        for (let k = 0; k < outer; k++) {
          if (p + 4 > e) throw new BasketFormatError(`entry ${i}: inner vector ${k} runs past the entry`);
          const m = dv.getInt32(p);
          p += 4;
          if (m < 0 || p + m * itemSize > e)
            throw new BasketFormatError(`entry ${i}: inner vector ${k} of ${m} values runs past the entry`);
          seg.innerCounts.push(m);
          seg.total += m;
          if (m > 0) seg.ranges.push([d, p, p + m * itemSize]);
          p += m * itemSize;
        }
        if (p !== e) throw new BasketFormatError(`entry ${i}: ${e - p} bytes left after its ${outer} inner vectors`);
        seg.counts[j] = outer;
      }
    }
  }
  if (seg.total > 0x7fffffff)
    throw new BasketFormatError('more than 2^31 elements in one read; read a smaller entry range');
  const content = allocate(dtype, seg.total);
  const decode = decoder ?? decoderFor(dtype);
  let pos = 0;
  for (const [d, s, e] of seg.ranges) {
    const count = (e - s) / itemSize;
    decode(d.subarray(s, e), content, pos, count);
    pos += count;
  }
  const offsets = countsToOffsets(seg.counts);
  if (kind !== 'vector2') return { offsets, content };
  return { offsets, content: { offsets: countsToOffsets(seg.innerCounts), content } };
}

function countsToOffsets(counts: ArrayLike<number>): Int32Array {
  const o = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) o[i + 1] = o[i] + counts[i];
  return o;
}

/** One leaf of a leaf list: `perEntry` values at byte `offset` of every `recordBytes`-byte record. */
export function assembleField(
  dtype: DType,
  itemSize: number,
  perEntry: number,
  recordBytes: number,
  offset: number,
  slices: readonly BasketSlice[],
  n: number,
): NumericArray {
  const out = allocate(dtype, n * perEntry);
  const decode = decoderFor(dtype);
  const width = itemSize * perEntry;
  let pos = 0;
  for (const { basket, from, to } of slices) {
    if (basket.data.length !== basket.entries * recordBytes) {
      throw new BasketFormatError(
        `basket holds ${basket.data.length} data bytes, expected ${basket.entries} records × ${recordBytes} bytes`,
      );
    }
    const packed = new Uint8Array((to - from) * width);
    for (let i = from; i < to; i++)
      packed.set(basket.data.subarray(i * recordBytes + offset, i * recordBytes + offset + width), (i - from) * width);
    decode(packed, out, pos, (to - from) * perEntry);
    pos += (to - from) * perEntry;
  }
  return out;
}

/**
 * String entries: `header` bytes (6: byte count + version, as split std::string members are written;
 * 0 for TString, char* and, in the files seen, top-level std::string branches), then the length
 * (1 byte, or 255 and a 4-byte length), then the bytes. The entries are walked from the start of each
 * basket; each must end exactly where the next begins, where the basket's offset table (when present)
 * says, and the last at the end of the data. With `eitherHeader`, a basket that does not parse with
 * `header` is parsed with the other header size (both are checked just as strictly).
 * Result: the bytes of entry i at content[offsets[i] .. offsets[i+1]).
 */
export function assembleStrings(
  header: 0 | 6,
  slices: readonly BasketSlice[],
  n: number,
  eitherHeader = false,
): Jagged<Uint8Array> {
  const counts = new Int32Array(n);
  const ranges: [Uint8Array, number, number][] = [];
  let j = 0;
  let total = 0;
  for (const slice of slices) {
    let found: [number, number][];
    try {
      found = stringRanges(header, slice);
    } catch (e) {
      if (!eitherHeader || !(e instanceof BasketFormatError)) throw e;
      try {
        found = stringRanges(header === 0 ? 6 : 0, slice);
      } catch {
        throw e;
      }
    }
    for (let i = slice.from; i < slice.to; i++) {
      const [a, b] = found[i];
      ranges.push([slice.basket.data, a, b]);
      counts[j++] = b - a;
      total += b - a;
    }
  }
  const content = new Uint8Array(total);
  let pos = 0;
  for (const [d, a, b] of ranges) {
    content.set(d.subarray(a, b), pos);
    pos += b - a;
  }
  return { offsets: countsToOffsets(counts), content };
}

/** Byte ranges of the string bytes of entries [0, slice.to) of a basket. */
function stringRanges(header: 0 | 6, { basket, to }: BasketSlice): [number, number][] {
  const d = basket.data;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const o = basket.offsets;
  const out: [number, number][] = [];
  let p = 0;
  for (let i = 0; i < to; i++) {
    const s = p;
    if (o && o[i] !== s)
      throw new BasketFormatError(`string entry ${i} starts at byte ${s}, the offset table says ${o[i]}`);
    if (header) {
      if (p + 6 > d.length) throw new BasketFormatError(`string entry ${i} runs past the basket`);
      const bc = dv.getUint32(p);
      if (!(bc & K_BYTE_COUNT)) throw new BasketFormatError(`string entry ${i} has no byte count`);
      const end = s + (bc & ~K_BYTE_COUNT) + 4;
      if (end > d.length) throw new BasketFormatError(`string entry ${i} byte count runs past the basket`);
      const r = readString(d, dv, p + 6, i);
      if (r[1] !== end) throw new BasketFormatError(`string entry ${i}: its length and byte count disagree`);
      out.push(r);
      p = r[1];
    } else {
      const r = readString(d, dv, p, i);
      out.push(r);
      p = r[1];
    }
  }
  const stop = o ? o[to] : to === basket.entries ? d.length : undefined;
  if (stop !== undefined && p !== stop)
    throw new BasketFormatError(`string entries end at byte ${p}, expected ${stop}`);
  return out;
}

function readString(d: Uint8Array, dv: DataView, p: number, i: number): [number, number] {
  if (p + 1 > d.length) throw new BasketFormatError(`string entry ${i} runs past the basket`);
  let len = d[p];
  p += 1;
  if (len === 255) {
    if (p + 4 > d.length) throw new BasketFormatError(`string entry ${i} runs past the basket`);
    len = dv.getInt32(p);
    p += 4;
  }
  if (len < 0 || p + len > d.length)
    throw new BasketFormatError(`string entry ${i} of ${len} bytes runs past the basket`);
  return [p, p + len];
}
