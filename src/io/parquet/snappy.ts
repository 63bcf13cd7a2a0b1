/**
 * Snappy decompression (the raw block format Parquet uses) straight into a caller's buffer.
 *
 * hyparquet-compressors' WebAssembly decoder copies the input into wasm memory and the result out into
 * a fresh array per page. Parquet pages of physics data are mostly literals (jittered floats do not
 * compress), so a decoder that copies literals with `Uint8Array.set` (a memcpy) straight into the
 * destination — the column's own typed array when the page holds only values — does one copy instead of
 * three and allocates nothing.
 *
 * Format (github.com/google/snappy, format_description.txt): a varint of the uncompressed length, then
 * elements whose tag byte's low two bits say literal (00), copy with a 1-byte (01), 2-byte (10) or 4-byte
 * (11) offset.
 */
import { ParquetFormatError } from './errors.ts';

/** The uncompressed length a snappy block announces, and where its elements start. */
function preamble(src: Uint8Array): [length: number, pos: number] {
  let length = 0;
  let pos = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= src.length || shift > 28) throw new ParquetFormatError('snappy block ends inside its length header');
    const b = src[pos++];
    length += (b & 0x7f) * 2 ** shift;
    if (!(b & 0x80)) break;
  }
  return [length, pos];
}

/**
 * The uncompressed length a snappy block announces: checked against the page header before any buffer is
 * sized from it, so a damaged header cannot make the reader allocate (and keep) gigabytes.
 */
export function snappyLength(src: Uint8Array): number {
  return preamble(src)[0];
}

/**
 * Decompress the snappy block `src` into `dst[at, at + expected)`; the block must announce and produce
 * exactly `expected` bytes.
 * @throws ParquetFormatError when the block is damaged (a length that disagrees, a copy reaching before
 *   the start of the output, elements running past the input or the output).
 */
export function snappyDecompressInto(src: Uint8Array, dst: Uint8Array, at: number, expected: number): void {
  const [length, start] = preamble(src);
  if (length !== expected)
    throw new ParquetFormatError(`snappy block announces ${length} bytes, the page header ${expected}`);
  const end = at + expected;
  if (end > dst.length) throw new ParquetFormatError(`snappy output of ${expected} bytes does not fit its page`);
  const n = src.length;
  let pos = start;
  let out = at;
  while (pos < n) {
    const tag = src[pos++];
    const kind = tag & 3;
    let len: number;
    if (kind === 0) {
      // Literal: length - 1 in the tag's upper six bits, or in the 1–4 bytes after it (tag values 60–63).
      len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > n) throw new ParquetFormatError('snappy literal length runs past the block');
        len = 0;
        for (let i = 0; i < extra; i++) len += src[pos + i] * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > n || out + len > end)
        throw new ParquetFormatError('snappy literal runs past the block or the announced length');
      dst.set(src.subarray(pos, pos + len), out);
      pos += len;
      out += len;
      continue;
    }
    let offset: number;
    if (kind === 1) {
      if (pos >= n) throw new ParquetFormatError('snappy copy runs past the block');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[pos++];
    } else if (kind === 2) {
      if (pos + 2 > n) throw new ParquetFormatError('snappy copy runs past the block');
      len = 1 + (tag >>> 2);
      offset = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      if (pos + 4 > n) throw new ParquetFormatError('snappy copy runs past the block');
      len = 1 + (tag >>> 2);
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > out - at || out + len > end)
      throw new ParquetFormatError(`snappy copy of ${len} bytes from ${offset} back is out of range`);
    // A copy may overlap its own output (offset < len repeats a pattern): byte by byte then, and for
    // short copies, where a call costs more than the loop.
    if (offset >= len && len > 16) dst.copyWithin(out, out - offset, out - offset + len);
    else for (let i = 0; i < len; i++) dst[out + i] = dst[out - offset + i];
    out += len;
  }
  if (out !== end) throw new ParquetFormatError(`snappy block holds ${out - at} bytes, it announces ${expected}`);
}
