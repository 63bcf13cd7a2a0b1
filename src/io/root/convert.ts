/**
 * Big-endian basket bytes → little-endian typed arrays, in bulk: one copy into the output array, then
 * Node's native in-place byte swap. 64-bit integers become float64 (exact up to 2^53).
 */
import type { NumericArray } from '../../columnar/types.ts';
import type { DType } from '../reader.ts';

/** Writes `count` elements decoded from `src` (exactly count × itemSize bytes) into `out` at `outStart`. */
export type Decoder = (src: Uint8Array, out: NumericArray, outStart: number, count: number) => void;

/** A fresh typed array of `n` elements for `dtype`. */
export function allocate(dtype: DType, n: number): NumericArray {
  switch (dtype) {
    case 'bool':
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'int64':
    case 'uint64':
    case 'float64':
      return new Float64Array(n);
  }
}

function bytesOf(out: NumericArray, outStart: number, count: number, width: number): Uint8Array {
  return new Uint8Array(out.buffer, out.byteOffset + outStart * width, count * width);
}

function swapper(width: 1 | 2 | 4 | 8): Decoder {
  return (src, out, outStart, count) => {
    const dst = bytesOf(out, outStart, count, width);
    dst.set(src);
    if (width === 1) return;
    const b = Buffer.from(dst.buffer, dst.byteOffset, dst.byteLength);
    if (width === 2) b.swap16();
    else if (width === 4) b.swap32();
    else b.swap64();
  };
}

function int64ToFloat64(unsigned: boolean): Decoder {
  const swap = swapper(8);
  return (src, out, outStart, count) => {
    swap(src, out, outStart, count);
    // Now little-endian int64 in place; read both halves of each element before overwriting it.
    const base = out.byteOffset + outStart * 8;
    const lo = new Uint32Array(out.buffer, base, count * 2);
    const hiS = new Int32Array(out.buffer, base, count * 2);
    const f = new Float64Array(out.buffer, base, count);
    if (unsigned) {
      for (let i = 0; i < count; i++) f[i] = lo[2 * i + 1] * 4294967296 + lo[2 * i];
    } else {
      for (let i = 0; i < count; i++) f[i] = hiS[2 * i + 1] * 4294967296 + lo[2 * i];
    }
  };
}

/** The decoder for `dtype`, chosen once per branch. */
export function decoderFor(dtype: DType): Decoder {
  switch (dtype) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return swapper(1);
    case 'int16':
    case 'uint16':
      return swapper(2);
    case 'int32':
    case 'uint32':
    case 'float32':
      return swapper(4);
    case 'float64':
      return swapper(8);
    case 'int64':
      return int64ToFloat64(false);
    case 'uint64':
      return int64ToFloat64(true);
  }
}

/**
 * Decoder for Double32_t / Float16_t members (see Packed in branch-meta.ts). `factor` follows jsroot's
 * arithmetic (u × (1/factor) + min), which may differ from ROOT's u / factor + min in the last bit.
 */
export function packedDecoder(
  p: { mode: 'factor'; factor: number; min: number } | { mode: 'float' } | { mode: 'nbits'; nbits: number },
): Decoder {
  if (p.mode === 'float') return decoderFor('float32');
  if (p.mode === 'factor') {
    const inv = 1 / p.factor;
    const min = p.min;
    return (src, out, outStart, count) => {
      const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      for (let i = 0; i < count; i++) out[outStart + i] = dv.getUint32(4 * i) * inv + min;
    };
  }
  const nbits = p.nbits;
  const manMask = (1 << (nbits + 1)) - 1;
  const signBit = 1 << (nbits + 1);
  const tmp = new DataView(new ArrayBuffer(4));
  return (src, out, outStart, count) => {
    const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    for (let i = 0; i < count; i++) {
      const exp = src[3 * i];
      const man = dv.getUint16(3 * i + 1);
      tmp.setUint32(0, ((exp << 23) | ((man & manMask) << (23 - nbits))) >>> 0);
      const v = tmp.getFloat32(0);
      out[outStart + i] = man & signBit ? -v : v;
    }
  };
}
