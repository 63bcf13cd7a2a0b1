/**
 * One basket, from its stored bytes to its uncompressed data: the TKey + TBasket header, the
 * (de)compressed payload, and for variable-size entries the per-entry byte offsets ROOT appends after
 * the data. Every size is cross-checked against the branch metadata; a mismatch throws instead of
 * returning a short or shifted array.
 */
import { rootDecompressSync } from './compression.ts';

/** A basket's data: entry i of the basket occupies bytes [offsets[i], offsets[i+1]) of `data`. */
export interface BasketData {
  /** Uncompressed entry data (the part before the offset table). */
  readonly data: Uint8Array;
  readonly entries: number;
  /** Per-entry byte offsets into `data` (length entries + 1), or null for fixed-size entries. */
  readonly offsets: Int32Array | null;
  /**
   * The entry-offset table as stored, when the basket was decoded with `rawEntryTable` (then `offsets` is
   * null): `assembleJagged` reads it in place instead of copying it into an `Int32Array` first.
   */
  readonly table?: EntryTable;
}

/**
 * A basket's entry-offset table as ROOT stores it: `entries` big-endian int32 byte positions counted from
 * the start of the key (so `keylen` is subtracted to get a position in `data`), the end of the last entry
 * being the end of the data. Only the part a read needs is checked, by the code that reads it.
 */
export interface EntryTable {
  /** The `entries` stored positions, 4 big-endian bytes each. */
  readonly bytes: Uint8Array;
  readonly keylen: number;
}

/** Thrown for an inconsistent basket; the reader turns it into a CorruptBasketError with context. */
export class BasketFormatError extends Error {}

export interface BasketExpectation {
  readonly branch: string;
  readonly bytes: number;
  readonly entries: number;
  readonly hasEntryOffsets: boolean;
  /** Leave the entry-offset table as stored (`BasketData.table`) instead of decoding it into `offsets`. */
  readonly rawEntryTable?: boolean;
}

interface Header {
  readonly nbytes: number;
  readonly objlen: number;
  readonly keylen: number;
  readonly nevBuf: number;
  readonly last: number;
}

/**
 * Parse and decompress one basket whose stored bytes (key header included) are `raw`. Synchronous, so
 * the reader's async and sync reads share it; an XZ basket needs `loadLzma()` first (else
 * LzmaNotLoadedError from compression.ts). `alloc` supplies the decompressed payload's memory (see
 * `rootDecompressSync`); the result's `data` and `table` are views of it, or of `raw` when the basket
 * is stored uncompressed.
 */
export function decodeBasket(raw: Uint8Array, want: BasketExpectation, alloc?: (n: number) => Uint8Array): BasketData {
  const h = parseHeader(raw, want);
  const stored = raw.subarray(h.keylen, h.nbytes);
  const payload = h.objlen === stored.length ? stored : rootDecompressSync(stored, h.objlen, alloc);
  const border = h.last - h.keylen;
  if (border < 0 || border > payload.length)
    throw new BasketFormatError(
      `fLast ${h.last} is outside the basket (key length ${h.keylen}, ${payload.length} data bytes)`,
    );
  const data = payload.subarray(0, border);
  if (!want.hasEntryOffsets) return { data, entries: h.nevBuf, offsets: null };
  // Some writers leave the table out although the branch metadata announces one (nothing follows the
  // data): report that as "no offsets" so the reader takes the sizes from the count branch instead.
  if (border === payload.length && h.nevBuf > 0) return { data, entries: h.nevBuf, offsets: null };
  if (want.rawEntryTable) return { data, entries: h.nevBuf, offsets: null, table: entryTable(payload, border, h) };
  return { data, entries: h.nevBuf, offsets: readEntryOffsets(payload, border, h) };
}

/**
 * Build a BasketData from a basket jsroot found inside the TBranch object (the last basket of a tree
 * that was not closed properly): its data are already uncompressed and its offsets already read.
 */
export function embeddedBasket(
  b: {
    fKeylen: number;
    fNevBuf: number;
    fLast: number;
    fEntryOffset?: ArrayLike<number>;
    fBufferRef?: { arr?: DataView } | null;
  },
  hasEntryOffsets: boolean,
): BasketData {
  const border = b.fLast - b.fKeylen;
  if (!Number.isInteger(b.fNevBuf) || b.fNevBuf < 0)
    throw new BasketFormatError(`embedded basket holds ${b.fNevBuf} entries`);
  const dv = b.fBufferRef?.arr;
  if (border < 0 || (border > 0 && (!dv || dv.byteLength < border)))
    throw new BasketFormatError(`embedded basket holds ${dv?.byteLength ?? 0} bytes, fLast says ${border}`);
  // A basket whose entries are all empty (a counter that is 0 in every entry) has no data bytes at all.
  const data = border === 0 || !dv ? new Uint8Array(0) : new Uint8Array(dv.buffer, dv.byteOffset, border);
  if (!hasEntryOffsets) return { data, entries: b.fNevBuf, offsets: null };
  const offsets = new Int32Array(b.fNevBuf + 1);
  if (border === 0) return { data, entries: b.fNevBuf, offsets }; // every entry is empty
  const src = b.fEntryOffset;
  if (!src || src.length < b.fNevBuf) return { data, entries: b.fNevBuf, offsets: null }; // sizes from the count branch
  for (let i = 0; i < b.fNevBuf; i++) offsets[i] = src[i] - b.fKeylen;
  offsets[b.fNevBuf] = border;
  checkOffsets(offsets, border);
  return { data, entries: b.fNevBuf, offsets };
}

function parseHeader(raw: Uint8Array, want: BasketExpectation): Header {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 18) throw new BasketFormatError(`basket is only ${raw.length} bytes`);
  const nbytes = dv.getInt32(0);
  const version = dv.getInt16(4);
  const objlen = dv.getInt32(6);
  const keylen = dv.getInt16(14);
  if (nbytes !== want.bytes) throw new BasketFormatError(`key says ${nbytes} bytes, the branch says ${want.bytes}`);
  if (keylen <= 0 || keylen >= nbytes)
    throw new BasketFormatError(`key length ${keylen} is impossible for a ${nbytes}-byte basket`);
  let p = 18 + (version > 1000 ? 16 : 8);
  const readString = (): string => {
    if (p >= keylen) throw new BasketFormatError('key header strings run past the key length');
    let n = raw[p++];
    if (n === 255) {
      n = dv.getInt32(p);
      p += 4;
    }
    if (n < 0 || p + n > keylen) throw new BasketFormatError('key header strings run past the key length');
    const s = String.fromCharCode(...raw.subarray(p, p + n));
    p += n;
    return s;
  };
  const className = readString();
  const name = readString();
  readString(); // title: the tree name
  if (className !== 'TBasket') throw new BasketFormatError(`key class is '${className}', expected 'TBasket'`);
  if (name !== want.branch) throw new BasketFormatError(`key names branch '${name}'`);
  // TBasket's own header: version (possibly with a byte count), fBufferSize, fNevBufSize, fNevBuf, fLast, flag.
  if (p + 2 > keylen) throw new BasketFormatError('TBasket header runs past the key length');
  if (dv.getUint32(p) & 0x40000000) p += 4; // byte count before the version
  p += 2 + 4; // version, fBufferSize
  const nevBufSize = dv.getInt32(p);
  p += 4;
  if (nevBufSize < 0) p += 1; // fIOBits follows a negated fNevBufSize
  const nevBuf = dv.getInt32(p);
  const last = dv.getInt32(p + 4);
  p += 9;
  if (p > keylen) throw new BasketFormatError(`TBasket header (${p} bytes) runs past the key length ${keylen}`);
  if (nevBuf !== want.entries)
    throw new BasketFormatError(`basket holds ${nevBuf} entries, the branch says ${want.entries}`);
  if (objlen < 0 || objlen > 0x7fffffff) throw new BasketFormatError(`uncompressed size ${objlen} is impossible`);
  return { nbytes, objlen, keylen, nevBuf, last };
}

/** The stored table after the data, its length checked; the positions are checked where they are read. */
function entryTable(payload: Uint8Array, border: number, h: Header): EntryTable {
  const n = h.nevBuf;
  if (n === 0) return { bytes: payload.subarray(0, 0), keylen: h.keylen };
  if (border + 4 > payload.length) throw new BasketFormatError('entry-offset table is missing after the data');
  const stored =
    (payload[border] << 24) | (payload[border + 1] << 16) | (payload[border + 2] << 8) | payload[border + 3] | 0;
  // ROOT writes fNevBuf + 1 slots (the last one unused); accept fNevBuf too.
  if (stored !== n && stored !== n + 1)
    throw new BasketFormatError(`entry-offset table has ${stored} slots for ${n} entries`);
  if (border + 4 + 4 * n > payload.length) throw new BasketFormatError('entry-offset table runs past the basket');
  return { bytes: payload.subarray(border + 4, border + 4 + 4 * n), keylen: h.keylen };
}

function readEntryOffsets(payload: Uint8Array, border: number, h: Header): Int32Array {
  const n = h.nevBuf;
  const offsets = new Int32Array(n + 1);
  if (n === 0) return offsets;
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (border + 4 > payload.length) throw new BasketFormatError('entry-offset table is missing after the data');
  const stored = dv.getInt32(border);
  // ROOT writes fNevBuf + 1 slots (the last one unused); accept fNevBuf too.
  if (stored !== n && stored !== n + 1)
    throw new BasketFormatError(`entry-offset table has ${stored} slots for ${n} entries`);
  if (border + 4 + 4 * n > payload.length) throw new BasketFormatError('entry-offset table runs past the basket');
  if (LITTLE_ENDIAN) {
    // One copy and a native byte swap, then a single pass that rebases and checks (a DataView read per
    // entry cost ~10 ns, a fifth of the time of reading a jagged float branch from an LZ4 file).
    const at = payload.byteOffset + border + 4;
    new Uint8Array(offsets.buffer, 0, 4 * n).set(new Uint8Array(payload.buffer, at, 4 * n));
    Buffer.from(offsets.buffer, 0, 4 * n).swap32();
    const keylen = h.keylen;
    let prev = 0;
    let i = 0;
    for (; i < n; i++) {
      const o = offsets[i] - keylen;
      if (o < prev || o > border) break;
      offsets[i] = prev = o;
    }
    if (i === n) {
      offsets[n] = border;
      if (offsets[0] !== 0) checkOffsets(offsets, border); // throws, naming the problem
      return offsets;
    }
    // A bad entry: decode again the plain way, so that checkOffsets names it.
    for (let i = 0; i < n; i++) offsets[i] = dv.getInt32(border + 4 + 4 * i) - h.keylen;
  } else for (let i = 0; i < n; i++) offsets[i] = dv.getInt32(border + 4 + 4 * i) - h.keylen;
  offsets[n] = border;
  checkOffsets(offsets, border);
  return offsets;
}

/** Whether this machine stores integers little-endian (every platform Node ships for but s390x). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkOffsets(offsets: Int32Array, border: number): void {
  if (offsets[0] !== 0) throw new BasketFormatError(`first entry starts at data byte ${offsets[0]}, not 0`);
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i] < offsets[i - 1] || offsets[i] > border)
      throw new BasketFormatError(`entry offsets are not increasing within the data at entry ${i - 1}`);
  }
}
