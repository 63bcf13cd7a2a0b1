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
      } else if (bitWidth <= 24) {
        // Dictionary indices (nJet in a flat file: 20 M of them at 5 bits): a bit buffer fed a byte at a
        // time reads each input byte once, instead of four or five loads per value.
        let acc = 0;
        let held = 0;
        let p = pos;
        let i = 0;
        if (bitWidth <= 8) {
          // Eight values are `bitWidth` whole bytes: values 0–3 lie in the first 32 bits, 4–7 in the 32 bits
          // from bit 4·bitWidth (≤ 32). Two words per group while 8 bytes remain; the tail below.
          const s1 = bitWidth;
          const s2 = 2 * bitWidth;
          const s3 = 3 * bitWidth;
          const h = 4 * bitWidth;
          for (let o = seen; i + 8 <= take && p + 8 <= end; i += 8, o += 8, p += bitWidth) {
            const lo = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
            const hi = bytes[p + 4] | (bytes[p + 5] << 8) | (bytes[p + 6] << 16) | (bytes[p + 7] << 24);
            const up = h === 32 ? hi : (lo >>> h) | (hi << (32 - h));
            out[o] = lo & mask;
            out[o + 1] = (lo >>> s1) & mask;
            out[o + 2] = (lo >>> s2) & mask;
            out[o + 3] = (lo >>> s3) & mask;
            out[o + 4] = up & mask;
            out[o + 5] = (up >>> s1) & mask;
            out[o + 6] = (up >>> s2) & mask;
            out[o + 7] = (up >>> s3) & mask;
          }
        }
        for (let o = seen + i; i < take; i++, o++) {
          while (held < bitWidth) {
            acc |= bytes[p++] << held; // held ≤ 23: the byte stays below bit 31
            held += 8;
          }
          out[o] = acc & mask;
          acc >>>= bitWidth;
          held -= bitWidth;
        }
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

/**
 * Decode `count` 1-bit levels of the RLE / bit-packed hybrid into a bitmap (bit k of `out` = level k,
 * least significant bit first), for list levels whose maximum is 1. A bit-packed run is already this
 * layout: copied with one `set` when it starts on a byte boundary. `out` needs ⌈count / 8⌉ + 1 bytes;
 * bits past `count` in the last byte are undefined. Returns the position after the last byte consumed.
 */
export function decodeHybridBits(bytes: Uint8Array, pos: number, end: number, out: Uint8Array, count: number): number {
  if (end > bytes.length) end = bytes.length;
  out.fill(0, 0, ((count + 7) >> 3) + 1);
  let seen = 0;
  while (seen < count) {
    if (pos >= end)
      throw new ParquetFormatError(`RLE/bit-packed run overruns its buffer (${seen} of ${count} values decoded)`);
    let header = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[pos++];
      header |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (header & 1) {
      const groups = header >>> 1; // groups of 8 values: one byte each at bit width 1
      const take = Math.min(groups * 8, count - seen);
      const takeBytes = (take + 7) >> 3;
      if (pos + takeBytes > end) throw new ParquetFormatError('bit-packed run overruns its buffer');
      const q = seen >> 3;
      const s = seen & 7;
      if (s === 0) out.set(bytes.subarray(pos, pos + takeBytes), q);
      else {
        // Shifted by s bits: each output byte is the carry of the previous input byte and the low bits of
        // this one (one store per byte; bits past `seen` in out[q] are still zero from the fill).
        let carry = out[q];
        for (let i = 0; i < takeBytes; i++) {
          const x = bytes[pos + i];
          out[q + i] = (carry | (x << s)) & 0xff;
          carry = x >> (8 - s);
        }
        out[q + takeBytes] = carry;
      }
      seen += take;
      pos += groups;
    } else {
      const n = header >>> 1;
      if (pos >= end) throw new ParquetFormatError('RLE run overruns its buffer');
      const v = bytes[pos++];
      if (v > 1) throw new ParquetFormatError(`RLE run of level ${v} where levels have 1 bit`);
      const stop = Math.min(count, seen + n);
      if (v === 1 && stop > seen) setBits(out, seen, stop);
      seen = stop;
    }
  }
  return pos;
}

/** Set bits [a, b) of a bitmap (a < b). */
function setBits(out: Uint8Array, a: number, b: number): void {
  const first = a >> 3;
  const last = (b - 1) >> 3;
  const head = (0xff << (a & 7)) & 0xff;
  const tail = 0xff >> (7 - ((b - 1) & 7));
  if (first === last) {
    out[first] |= head & tail;
    return;
  }
  out[first] |= head;
  if (last > first + 1) out.fill(0xff, first + 1, last);
  out[last] |= tail;
}
