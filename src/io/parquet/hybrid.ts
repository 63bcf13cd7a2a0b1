/**
 * The RLE / bit-packed hybrid encoding of Parquet levels and dictionary indices, decoded straight into
 * typed arrays (hyparquet decodes into plain JS arrays, which dominates the cost of list columns).
 */
import { ParquetFormatError } from './errors.ts';

/**
 * Decode `count` values of `bitWidth` bits from `bytes[pos, end)` into `out[0, count)`.
 * Returns the position after the last byte consumed.
 */
export function decodeHybrid(
  bytes: Uint8Array,
  pos: number,
  end: number,
  bitWidth: number,
  out: Uint8Array | Int32Array,
  count: number,
): number {
  if (bitWidth === 0) {
    out.fill(0, 0, count);
    return pos;
  }
  if (bitWidth > 32) throw new ParquetFormatError(`RLE/bit-packed values of ${bitWidth} bits (at most 32 allowed)`);
  // A damaged length must not make the loop walk far past the data (zero-length runs advance `pos` only).
  if (end > bytes.length) end = bytes.length;
  const byteWidth = (bitWidth + 7) >> 3;
  const mask = bitWidth >= 32 ? 0xffffffff : (1 << bitWidth) - 1;
  let seen = 0;
  while (seen < count) {
    if (pos >= end)
      throw new ParquetFormatError(`RLE/bit-packed run overruns its buffer (${seen} of ${count} values decoded)`);
    // ULEB128 run header
    let header = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[pos++];
      header |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (header & 1) {
      // bit-packed groups of 8 values
      const nValues = (header >>> 1) * 8;
      const take = Math.min(nValues, count - seen);
      const nBytes = (nValues * bitWidth) >> 3;
      if (pos + ((take * bitWidth + 7) >> 3) > end) throw new ParquetFormatError('bit-packed run overruns its buffer');
      if (bitWidth === 1) {
        // Levels of lists and optional fields: eight values a byte, unrolled.
        const whole = take >> 3;
        for (let b = 0, o = seen; b < whole; b++, o += 8) {
          const x = bytes[pos + b];
          out[o] = x & 1;
          out[o + 1] = (x >> 1) & 1;
          out[o + 2] = (x >> 2) & 1;
          out[o + 3] = (x >> 3) & 1;
          out[o + 4] = (x >> 4) & 1;
          out[o + 5] = (x >> 5) & 1;
          out[o + 6] = (x >> 6) & 1;
          out[o + 7] = x >> 7;
        }
        for (let i = whole << 3; i < take; i++) out[seen + i] = (bytes[pos + (i >> 3)] >> (i & 7)) & 1;
      } else {
        let bitPos = 0;
        for (let i = 0; i < take; i++) {
          const byte = pos + (bitPos >> 3);
          const bit = bitPos & 7;
          // up to 32-bit values spanning at most 5 bytes; read 4 bytes and a possible fifth
          let v = (bytes[byte] | (bytes[byte + 1] << 8) | (bytes[byte + 2] << 16) | (bytes[byte + 3] << 24)) >>> bit;
          if (bit + bitWidth > 32) v |= bytes[byte + 4] << (32 - bit);
          out[seen + i] = v & mask;
          bitPos += bitWidth;
        }
      }
      seen += take;
      pos += nBytes;
    } else {
      const n = header >>> 1;
      if (pos + byteWidth > end) throw new ParquetFormatError('RLE run overruns its buffer');
      let v = 0;
      for (let i = 0; i < byteWidth; i++) v |= bytes[pos++] << (i * 8);
      const stop = Math.min(count, seen + n);
      out.fill(v, seen, stop);
      seen = stop;
    }
  }
  return pos;
}

/** Bits needed to store `max`. */
export function bitWidthOf(max: number): number {
  return 32 - Math.clz32(max);
}
