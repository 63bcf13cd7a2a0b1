/**
 * Decodes one column chunk (all pages of one column in one row group) straight into Ristretto memory:
 * offsets built from repetition levels, element existence and nulls from definition levels, values
 * copied from the page bytes into one preallocated typed array.
 */
import type { CompressionCodec, Compressors, Encoding, PageHeader, ParquetType } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { decompressPage } from 'hyparquet/src/datapage.js';
import { createRequire } from 'node:module';
import { crc32, gunzipSync } from 'node:zlib';
import type { NumericArray } from '../../columnar/types.ts';
import { loadZstd, ZstdFrameError, zstdDecompressInto, zstdMaxSize } from '../codecs/zstd.ts';
import type { DType } from '../reader.ts';
import { arrayTypeOf, nullValueOf } from './dtype.ts';
import { ParquetChecksumError, ParquetFormatError } from './errors.ts';
import { bitWidthOf, decodeHybrid, decodeHybridBits } from './hybrid.ts';
import type { LeafColumn } from './schema.ts';
import { snappyDecompressInto, snappyLength } from './snappy.ts';
import { decodePlain, decodeValues, plainWidth } from './values.ts';

// node:zlib's native gunzip beats the pure-JS one; SNAPPY and ZSTD are decoded here (decompressInto); the
// rest (BROTLI, LZ4, LZ4_RAW) come from hyparquet-compressors, imported only for files that use them:
// importing it costs every thread ~45 ms of CPU (it instantiates a wasm snappy and builds brotli and gzip
// tables) that SNAPPY, ZSTD, GZIP and uncompressed files never use.
const gzip: Compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) };
let allCompressors: Compressors | undefined;

/** Whether pages of `codec` need hyparquet-compressors. */
export function needsCompressors(codec: CompressionCodec): boolean {
  return codec !== 'UNCOMPRESSED' && codec !== 'GZIP' && !decodesInto(codec);
}

/**
 * Import hyparquet-compressors now if pages of any of `codecs` need it. Opening a file calls this with
 * its first row group's codecs, so that decoding, which is synchronous, finds it loaded (a literal
 * `import()` also lets a bundler include it).
 */
export async function loadCompressors(codecs: Iterable<CompressionCodec>): Promise<void> {
  const list = [...codecs];
  // libzstd's wasm compiles off this thread while the file opens; without it, the first ZSTD page would
  // load it synchronously (a failure to load surfaces there, as one warning and the fzstd fallback).
  if (list.includes('ZSTD')) await loadZstd().catch(() => undefined);
  if (allCompressors || !list.some(needsCompressors)) return;
  const m = await import('hyparquet-compressors');
  allCompressors ??= { ...m.compressors, ...gzip };
}

function compressorsFor(codec: CompressionCodec): Compressors {
  if (!needsCompressors(codec)) return gzip;
  // A codec the first row group did not use: `require` of an ES module is synchronous (Node 20.19+).
  allCompressors ??= {
    ...(createRequire(import.meta.url)('hyparquet-compressors') as { compressors: Compressors }).compressors,
    ...gzip,
  };
  return allCompressors;
}

/** A decoded chunk: values (flat) or offsets + content (jagged). `content` is empty when only levels were asked for. */
export interface DecodedChunk {
  readonly offsets?: Int32Array;
  readonly values: NumericArray;
}

let repScratch = new Uint8Array(4096);
let defScratch = new Uint8Array(4096);
// 1-bit list levels as bitmaps (see scanListBits).
let repBits = new Uint8Array(512);
let defBits = new Uint8Array(512);

/** Levels of `n` entries at bytes[pos, end) into the scratch for their kind. */
function levels(
  bytes: Uint8Array,
  pos: number,
  end: number,
  max: number,
  n: number,
  bits: boolean,
  rep: boolean,
): void {
  if (bits) {
    const need = (n >> 3) + 2;
    if (rep && repBits.length < need) repBits = new Uint8Array(need * 2);
    if (!rep && defBits.length < need) defBits = new Uint8Array(need * 2);
    decodeHybridBits(bytes, pos, end, rep ? repBits : defBits, n);
    return;
  }
  if (rep && repScratch.length < n) repScratch = new Uint8Array(n * 2);
  if (!rep && defScratch.length < n) defScratch = new Uint8Array(n * 2);
  decodeHybrid(bytes, pos, end, bitWidthOf(max), rep ? repScratch : defScratch, n);
}

/** Decompressed data pages, reused page after page (a page is consumed before the next). */
let pageScratch = new Uint8Array(1 << 16);

/** Codecs decoded into a caller's array, so a v2 page's values can land straight in the column. */
function decodesInto(codec: CompressionCodec): boolean {
  return codec === 'SNAPPY' || codec === 'ZSTD';
}

/** Decompress a page of a `decodesInto` codec into all of `out`; any other size is a format error. */
function decompressInto(bytes: Uint8Array, codec: CompressionCodec, out: Uint8Array): void {
  if (codec === 'SNAPPY') {
    snappyDecompressInto(bytes, out, 0, out.length);
    return;
  }
  try {
    zstdDecompressInto(bytes, out);
  } catch (e) {
    if (e instanceof ZstdFrameError)
      throw new ParquetFormatError(`ZSTD page: ${e.message}`, {}, undefined, { cause: e });
    throw e;
  }
}

/**
 * The uncompressed bytes of a page. With `transient`, SNAPPY and ZSTD pages land in a scratch buffer that
 * the next page overwrites (data pages: their values are copied out before the next page); dictionary
 * pages are kept while the chunk's data pages refer to them and get their own array.
 */
function decompress(bytes: Uint8Array, size: number, codec: CompressionCodec, transient = false): Uint8Array {
  if (!Number.isInteger(size) || size < 0)
    throw new ParquetFormatError(`page header declares ${size} uncompressed bytes`);
  if (!decodesInto(codec)) return decompressPage(bytes, size, codec, compressorsFor(codec));
  // A damaged header must not size a buffer: check what the compressed bytes can hold first.
  if (codec === 'SNAPPY') {
    const announced = snappyLength(bytes);
    if (announced !== size)
      throw new ParquetFormatError(`snappy block announces ${announced} bytes, the page header ${size}`);
  } else if (size > zstdMaxSize(bytes))
    throw new ParquetFormatError(
      `a ZSTD page of ${bytes.length} bytes cannot hold the ${size} bytes its header declares`,
    );
  let out: Uint8Array;
  if (transient) {
    if (pageScratch.length < size) pageScratch = new Uint8Array(Math.max(size, pageScratch.length * 2));
    out = pageScratch.subarray(0, size);
  } else out = new Uint8Array(size);
  decompressInto(bytes, codec, out);
  return out;
}

/** What a chunk's pages write into: its values, the same memory as bytes, and how PLAIN values decode. */
interface Sink {
  readonly values: NumericArray;
  readonly valueBytes: Uint8Array;
  /** Bytes per value when PLAIN bytes are already the values' memory layout, else 0. */
  readonly rawWidth: number;
  readonly type: ParquetType;
  readonly unsigned64: boolean;
  readonly codec: CompressionCodec;
}

/**
 * Put a page's `present` values into the column slots [at, at + slots). The values are either in
 * `page` from `pos`, or, for a v2 page, still compressed in `body` (`bodySize` bytes once decoded).
 * Raw values (all slots present, PLAIN, memory layout) are copied, or decompressed, straight into
 * place, as are decoded values when every slot is present. Returns the decoded values when some slots
 * are null, for the caller to spread by its levels; otherwise undefined.
 */
function placeValues(
  sink: Sink,
  page: Uint8Array,
  pos: number,
  body: Uint8Array | undefined,
  bodySize: number,
  encoding: Encoding,
  dictionary: NumericArray | undefined,
  at: number,
  slots: number,
  present: number,
): NumericArray | undefined {
  const { rawWidth } = sink;
  const raw = present === slots && rawWidth !== 0 && encoding === 'PLAIN';
  if (body && raw) {
    if (bodySize !== present * rawWidth) checkValueBytes(EMPTY, 0, present, rawWidth, bodySize);
    decompressInto(body, sink.codec, sink.valueBytes.subarray(at * rawWidth, at * rawWidth + bodySize));
    return undefined;
  }
  if (body) {
    page = decompress(body, bodySize, sink.codec, true);
    pos = 0;
  }
  const width = encoding === 'PLAIN' ? plainWidth(sink.type) : 0;
  if (width) checkValueBytes(page, pos, present, width);
  if (raw) {
    sink.valueBytes.set(page.subarray(pos, pos + present * rawWidth), at * rawWidth);
    return undefined;
  }
  // All slots present: dictionary-encoded values are gathered straight into the column.
  const into = present === slots ? sink.values : undefined;
  const vals = decodeValues(page, pos, present, encoding, sink.type, sink.unsigned64, dictionary, into, at);
  if (!into) return vals;
  if (vals !== into) into.set(vals, at);
  return undefined;
}

/** A count from a page header: a non-negative integer, else the header is damaged. */
function count(v: number | undefined, what: string): number {
  if (v === undefined || !Number.isInteger(v) || v < 0)
    throw new ParquetFormatError(`page header declares ${v} ${what}`);
  return v;
}

/** Throw unless the fixed-width values that follow `pos` fill the rest of the page exactly. */
function checkValueBytes(
  page: Uint8Array,
  pos: number,
  present: number,
  width: number,
  bytes = page.length - pos,
): void {
  if (bytes !== present * width)
    throw new ParquetFormatError(
      `page holds ${bytes} bytes of values for the ${present} values of ${width} bytes its levels announce`,
    );
}

const EMPTY = new Uint8Array(0);

/** True when PLAIN bytes of `type` are already the in-memory layout of `dtype` (little-endian host). */
function bytesAreValues(type: string, dtype: DType): boolean {
  return (
    (type === 'FLOAT' && dtype === 'float32') ||
    (type === 'DOUBLE' && dtype === 'float64') ||
    (type === 'INT32' && (dtype === 'int32' || dtype === 'uint32'))
  );
}

/**
 * What decoding needs of a column chunk's metadata: the lazily decoded footer's `ColumnChunkMeta`
 * (numbers) and hyparquet's `ColumnMetaData` (bigints) both fit.
 */
export interface ChunkMeta {
  readonly type: ParquetType;
  readonly codec: CompressionCodec;
  readonly num_values: number | bigint;
}

/**
 * Decode a column chunk of a row group with `numRows` rows.
 * @param levelsOnly decode levels only (offsets), skipping values: used for synthesized counts.
 * @param reuse for a flat column, an array of the column's type to decode into when it is large enough
 *   (the result is then a view of it, valid until the caller reuses it); otherwise a fresh one is made.
 */
export function decodeChunk(
  bytes: Uint8Array,
  meta: ChunkMeta,
  leaf: LeafColumn,
  numRows: number,
  levelsOnly = false,
  reuse?: NumericArray,
): DecodedChunk {
  const { maxDef, maxRep, listDef } = leaf;
  const dtype = leaf.info.dtype;
  const Out = arrayTypeOf(dtype);
  const nullValue = nullValueOf(dtype);
  const type = meta.type;
  const unsigned64 = dtype === 'uint64';
  const numValues = Number(meta.num_values);
  const jagged = maxRep > 0;
  // Lists of required elements, not nested, not optional (NanoAOD's layouts): both levels have one bit.
  const bitLists = maxRep === 1 && maxDef === 1 && listDef === 1;
  const rawWidth = bytesAreValues(type, dtype) ? plainWidth(type) : 0;

  const offsets = new Int32Array(jagged ? numRows + 1 : 0);
  // Level entries bound both rows (flat) and elements (jagged).
  // Every slot of a flat column is written below (or the chunk fails), so a reused array needs no clearing.
  const reusable = !levelsOnly && !jagged && reuse instanceof Out && reuse.length >= numRows;
  const values = reusable
    ? reuse.subarray(0, numRows)
    : levelsOnly
      ? new Out(0)
      : new Out(jagged ? numValues : numRows);
  const valueBytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const sink: Sink = { values, valueBytes, rawWidth, type, unsigned64, codec: meta.codec };
  let dictionary: NumericArray | undefined;
  let row = 0; // rows started so far (jagged) or rows filled (flat)
  let elem = 0; // elements filled (jagged)
  let levelsSeen = 0;

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { view, offset: 0 };

  while (levelsSeen < numValues) {
    if (reader.offset >= bytes.length)
      throw new ParquetFormatError(`column chunk ends after ${levelsSeen} of ${numValues} values`);
    const header: PageHeader = parquetHeader(reader);
    const start = reader.offset;
    const size = header.compressed_page_size;
    if (size === undefined)
      throw new ParquetFormatError(`the page header at chunk offset ${start} has no page size (damaged bytes)`);
    if (!(size >= 0) || start + size > bytes.length)
      throw new ParquetFormatError(
        `page of ${size} bytes at chunk offset ${start} runs past the chunk (${bytes.length} bytes)`,
      );
    reader.offset += size;
    const raw = bytes.subarray(start, start + size);

    if (header.type !== 'DICTIONARY_PAGE' && header.type !== 'DATA_PAGE' && header.type !== 'DATA_PAGE_V2') {
      if (header.type === undefined)
        throw new ParquetFormatError(`page at chunk offset ${start} has an unknown page type`);
      continue; // index pages
    }
    if (levelsOnly && header.type === 'DICTIONARY_PAGE') continue;
    // The page checksum (CRC-32 of the page bytes as stored), when the writer left one.
    if (header.crc !== undefined && crc32(raw) !== header.crc >>> 0) {
      throw new ParquetChecksumError(
        `page at chunk offset ${start} fails its CRC-32 check (stored ${(header.crc >>> 0).toString(16)}, computed ${crc32(raw).toString(16)})`,
      );
    }
    if (header.type === 'DICTIONARY_PAGE') {
      const n = count(header.dictionary_page_header?.num_values ?? 0, 'dictionary values');
      const dict = decompress(raw, header.uncompressed_page_size, meta.codec);
      const w = plainWidth(type);
      if (w) checkValueBytes(dict, 0, n, w);
      dictionary = decodePlain(dict, 0, n, type, unsigned64);
      continue;
    }

    // Levels and the start of the values, for both page versions.
    let n: number;
    let page: Uint8Array;
    let pos: number;
    let encoding;
    let v2Rows = -1; // rows the (v2) page header announces
    let body: Uint8Array | undefined; // a v2 page's values, still compressed (decoded by placeValues)
    let bodySize = 0;
    const v2 = header.data_page_header_v2;
    if (header.type === 'DATA_PAGE') {
      const h = header.data_page_header;
      if (!h) throw new ParquetFormatError('data page without its header');
      n = count(h.num_values, 'values');
      encoding = h.encoding;
      page = decompress(raw, header.uncompressed_page_size, meta.codec, true);
      pos = 0;
      if (maxRep) {
        const len = view32(page, pos);
        if (pos + 4 + len > page.length)
          throw new ParquetFormatError(`repetition levels of ${len} bytes run past the page (${page.length} bytes)`);
        levels(page, pos + 4, pos + 4 + len, maxRep, n, bitLists, true);
        pos += 4 + len;
      }
      if (maxDef) {
        const len = view32(page, pos);
        if (pos + 4 + len > page.length)
          throw new ParquetFormatError(`definition levels of ${len} bytes run past the page (${page.length} bytes)`);
        levels(page, pos + 4, pos + 4 + len, maxDef, n, bitLists, false);
        pos += 4 + len;
      }
    } else {
      if (!v2) throw new ParquetFormatError('data page v2 without its header');
      n = count(v2.num_values, 'values');
      encoding = v2.encoding;
      const rl = count(v2.repetition_levels_byte_length ?? 0, 'bytes of repetition levels');
      const dl = count(v2.definition_levels_byte_length ?? 0, 'bytes of definition levels');
      if (rl + dl > raw.length)
        throw new ParquetFormatError(`levels of ${rl} + ${dl} bytes run past the page (${raw.length} bytes)`);
      if (maxRep) levels(raw, 0, rl, maxRep, n, bitLists, true);
      if (maxDef) levels(raw, rl, rl + dl, maxDef, n, bitLists, false);
      const rest = raw.subarray(rl + dl);
      if (levelsOnly) page = rest;
      else if (v2.is_compressed === false) {
        if (rest.length !== header.uncompressed_page_size - rl - dl)
          throw new ParquetFormatError(
            `uncompressed page holds ${rest.length + rl + dl} bytes, its header ${header.uncompressed_page_size}`,
          );
        page = rest;
      } else if (decodesInto(meta.codec)) {
        // Decompressed by placeValues, once the levels say whether the values can go straight into the column.
        page = EMPTY;
        body = rest;
        bodySize = count(header.uncompressed_page_size - rl - dl, 'uncompressed value bytes');
      } else page = decompress(rest, header.uncompressed_page_size - rl - dl, meta.codec, true);
      pos = 0;
      if (v2.num_rows !== undefined) v2Rows = v2.num_rows;
    }
    if (levelsSeen + n > numValues)
      throw new ParquetFormatError(`pages hold more than the ${numValues} values the column metadata announces`);
    levelsSeen += n;
    const rep = repScratch;
    const def = defScratch;

    // Count present values of this page (jagged pages count them in their one pass over the levels below).
    let present = n;
    if (maxDef && !jagged) {
      countPresent(def, n, maxDef);
      present = scanOut[2];
      if (scanOut[3]) throw new ParquetFormatError(`a definition level is beyond the column's maximum ${maxDef}`);
    }

    if (!jagged) {
      if (row + n > numRows) throw new ParquetFormatError(`pages hold more than the ${numRows} rows of the row group`);
      if (v2Rows >= 0 && v2Rows !== n)
        throw new ParquetFormatError(`page holds ${n} rows, its header announces ${v2Rows}`);
      if (!levelsOnly) {
        const vals = placeValues(sink, page, pos, body, bodySize, encoding, dictionary, row, n, present);
        if (vals) for (let k = 0, vi = 0; k < n; k++) values[row + k] = def[k] === maxDef ? vals[vi++] : nullValue;
      }
      row += n;
      continue;
    }

    // Jagged: a repetition level 0 starts a row; a definition level >= listDef is an element, and a
    // present value at maxDef. A continuation (level 1) must follow a row start and be an element;
    // levels above 1 cannot occur. One pass over the levels builds the offsets and counts both.
    const elemStart = elem;
    const rowStart = row;
    if (bitLists) scanListBits(repBits, defBits, n, offsets, row, elem);
    else scanList(rep, def, n, offsets, row, elem, maxDef, listDef);
    row = scanOut[0];
    elem = scanOut[1];
    present = scanOut[2];
    const firstRep = bitLists ? repBits[0] & 1 : rep[0];
    const bad = (rowStart === 0 && n > 0 && firstRep !== 0) || scanOut[4] !== 0;
    if (scanOut[3]) throw new ParquetFormatError(`a definition level is beyond the column's maximum ${maxDef}`);
    if (bad)
      throw new ParquetFormatError(
        'repetition levels are inconsistent (a list continues where none started, or a level is out of range)',
      );
    if (row > numRows) throw new ParquetFormatError(`pages hold more than the ${numRows} rows of the row group`);
    if (v2Rows >= 0 && v2Rows !== row - rowStart)
      throw new ParquetFormatError(`page holds ${row - rowStart} rows, its header announces ${v2Rows}`);
    if (levelsOnly) continue;
    const nElems = elem - elemStart;
    if (present > nElems) throw new ParquetFormatError('definition levels announce more values than list elements');
    const vals = placeValues(sink, page, pos, body, bodySize, encoding, dictionary, elemStart, nElems, present);
    if (vals) {
      let e = elemStart;
      for (let k = 0, vi = 0; k < n; k++) {
        const d = def[k];
        if (d >= listDef) values[e++] = d === maxDef ? vals[vi++] : nullValue;
      }
    }
  }

  if (jagged) {
    if (row !== numRows) throw new ParquetFormatError(`column chunk holds ${row} rows, the row group ${numRows}`);
    offsets[numRows] = elem;
    return { offsets, values: levelsOnly ? values : values.subarray(0, elem) };
  }
  if (row !== numRows) throw new ParquetFormatError(`column chunk holds ${row} rows, the row group ${numRows}`);
  return { values };
}

/** Results of the list scans: rows started, elements, present values, highest level, inconsistency flag. */
const scanOut = new Int32Array(5);

/** Present values (level maxDef) of a flat optional column's page and "a level above maxDef", into `scanOut`. */
function countPresent(def: Uint8Array, n: number, maxDef: number): void {
  const below = maxDef - 1;
  let present = 0;
  let over = 0;
  for (let k = 0; k < n; k++) {
    const d = def[k];
    present += (below - d) >>> 31; // d >= maxDef (d > maxDef is flagged)
    over |= (maxDef - d) >>> 31;
  }
  scanOut[2] = present;
  scanOut[3] = over;
}

/**
 * scanList for 1-bit levels held as bitmaps (rep bit 0 = a row starts, def bit 1 = an element): eight
 * levels per byte pair, unrolled, no branch per level. A continuation without an element (rep 1, def 0)
 * is the only inconsistency 1-bit levels can express.
 */
function scanListBits(
  rep: Uint8Array,
  def: Uint8Array,
  n: number,
  offsets: Int32Array,
  row: number,
  elem: number,
): void {
  const elemStart = elem;
  let bad = 0;
  const whole = n >> 3;
  for (let q = 0; q < whole; q++) {
    const r = ~rep[q]; // 1 = row start
    const d = def[q];
    bad |= ~r & ~d & 0xff;
    offsets[row] = elem;
    row += r & 1;
    elem += d & 1;
    offsets[row] = elem;
    row += (r >> 1) & 1;
    elem += (d >> 1) & 1;
    offsets[row] = elem;
    row += (r >> 2) & 1;
    elem += (d >> 2) & 1;
    offsets[row] = elem;
    row += (r >> 3) & 1;
    elem += (d >> 3) & 1;
    offsets[row] = elem;
    row += (r >> 4) & 1;
    elem += (d >> 4) & 1;
    offsets[row] = elem;
    row += (r >> 5) & 1;
    elem += (d >> 5) & 1;
    offsets[row] = elem;
    row += (r >> 6) & 1;
    elem += (d >> 6) & 1;
    offsets[row] = elem;
    row += (r >> 7) & 1;
    elem += (d >> 7) & 1;
  }
  for (let k = whole << 3; k < n; k++) {
    const r = (rep[k >> 3] >> (k & 7)) & 1;
    const d = (def[k >> 3] >> (k & 7)) & 1;
    bad |= r & ~d & 1;
    offsets[row] = elem;
    row += r ^ 1;
    elem += d;
  }
  scanOut[0] = row;
  scanOut[1] = elem;
  scanOut[2] = elem - elemStart;
  scanOut[3] = 0;
  scanOut[4] = bad;
}

/**
 * One pass over the levels of a list page: writes the row starts into `offsets` and leaves rows started,
 * elements, present values, "a level above maxDef" and "inconsistent repetition" in `scanOut`.
 * Branch-free: a row start depends on random data (how many jets an event has), so an `if` per level
 * mispredicts about every other level; instead every level writes `offsets[row]` and only a row start
 * advances `row` (a continuation's write is overwritten by the next row start or the final offset).
 * Its own small function so that V8 keeps one optimized copy (inside decodeChunk, which sees every
 * dtype, the loop ran several times slower).
 */
function scanList(
  rep: Uint8Array,
  def: Uint8Array,
  n: number,
  offsets: Int32Array,
  row: number,
  elem: number,
  maxDef: number,
  listDef: number,
): void {
  const elemBelow = listDef - 1;
  const presentBelow = maxDef - 1;
  let present = 0;
  let over = 0;
  let bad = 0;
  for (let k = 0; k < n; k++) {
    const r = rep[k];
    const d = def[k];
    offsets[row] = elem;
    row += (r ^ 1) & 1; // level 0 starts a row (levels above 1 are flagged below)
    elem += (elemBelow - d) >>> 31; // d >= listDef: an element
    present += (presentBelow - d) >>> 31; // d >= maxDef: a value (d > maxDef is flagged)
    over |= (maxDef - d) >>> 31;
    bad |= (r >> 1) | (r & ((d - listDef) >>> 31)); // a level above 1, or a continuation that is no element
  }
  scanOut[0] = row;
  scanOut[1] = elem;
  scanOut[2] = present;
  scanOut[3] = over;
  scanOut[4] = bad;
}

function view32(b: Uint8Array, pos: number): number {
  if (pos + 4 > b.length) throw new ParquetFormatError('page ends inside its level header');
  return (b[pos] | (b[pos + 1] << 8) | (b[pos + 2] << 16) | (b[pos + 3] << 24)) >>> 0;
}
