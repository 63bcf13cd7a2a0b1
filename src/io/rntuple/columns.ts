/**
 * Column element decoding for RNTuple format 1.x: one decompressed page in, one typed array out.
 * Covers every column type of the specification except Switch, Real32Trunc and Real32Quant, which are
 * refused with RNTupleUnsupportedError: plain little-endian, byte-split (all first bytes, then all
 * second bytes...), zigzag for signed split integers, delta for split index columns, bit-packed booleans
 * and IEEE half floats.
 */
import type { NumericArray } from '../../columnar/types.ts';
import type { DType } from '../reader.ts';
import { RNTupleUnsupportedError } from './errors.ts';

export const COLUMN = {
  Bit: 0x00,
  Byte: 0x01,
  Char: 0x02,
  Int8: 0x03,
  UInt8: 0x04,
  Int16: 0x05,
  UInt16: 0x06,
  Int32: 0x07,
  UInt32: 0x08,
  Int64: 0x09,
  UInt64: 0x0a,
  Real16: 0x0b,
  Real32: 0x0c,
  Real64: 0x0d,
  Index32: 0x0e,
  Index64: 0x0f,
  Switch: 0x10,
  SplitInt16: 0x11,
  SplitUInt16: 0x12,
  SplitInt32: 0x13,
  SplitUInt32: 0x14,
  SplitInt64: 0x15,
  SplitUInt64: 0x16,
  SplitReal16: 0x17,
  SplitReal32: 0x18,
  SplitReal64: 0x19,
  SplitIndex32: 0x1a,
  SplitIndex64: 0x1b,
  Real32Trunc: 0x1c,
  Real32Quant: 0x1d,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(COLUMN).map(([k, v]) => [v, k]));

export function columnTypeName(type: number): string {
  return NAMES[type] ?? `unknown(0x${type.toString(16)})`;
}

/** What a column's elements mean once decoded: a branch dtype, or an offset into the next level. */
type Natural = DType | 'index';

interface Spec {
  readonly bits: number;
  readonly natural: Natural;
  readonly split: boolean;
  readonly zigzag?: boolean;
  readonly delta?: boolean;
}

const SPECS: Record<number, Spec> = {
  [COLUMN.Bit]: { bits: 1, natural: 'bool', split: false },
  [COLUMN.Byte]: { bits: 8, natural: 'uint8', split: false },
  [COLUMN.Char]: { bits: 8, natural: 'int8', split: false },
  [COLUMN.Int8]: { bits: 8, natural: 'int8', split: false },
  [COLUMN.UInt8]: { bits: 8, natural: 'uint8', split: false },
  [COLUMN.Int16]: { bits: 16, natural: 'int16', split: false },
  [COLUMN.UInt16]: { bits: 16, natural: 'uint16', split: false },
  [COLUMN.Int32]: { bits: 32, natural: 'int32', split: false },
  [COLUMN.UInt32]: { bits: 32, natural: 'uint32', split: false },
  [COLUMN.Int64]: { bits: 64, natural: 'int64', split: false },
  [COLUMN.UInt64]: { bits: 64, natural: 'uint64', split: false },
  [COLUMN.Real16]: { bits: 16, natural: 'float32', split: false },
  [COLUMN.Real32]: { bits: 32, natural: 'float32', split: false },
  [COLUMN.Real64]: { bits: 64, natural: 'float64', split: false },
  [COLUMN.Index32]: { bits: 32, natural: 'index', split: false },
  [COLUMN.Index64]: { bits: 64, natural: 'index', split: false },
  [COLUMN.SplitInt16]: { bits: 16, natural: 'int16', split: true, zigzag: true },
  [COLUMN.SplitUInt16]: { bits: 16, natural: 'uint16', split: true },
  [COLUMN.SplitInt32]: { bits: 32, natural: 'int32', split: true, zigzag: true },
  [COLUMN.SplitUInt32]: { bits: 32, natural: 'uint32', split: true },
  [COLUMN.SplitInt64]: { bits: 64, natural: 'int64', split: true, zigzag: true },
  [COLUMN.SplitUInt64]: { bits: 64, natural: 'uint64', split: true },
  [COLUMN.SplitReal16]: { bits: 16, natural: 'float32', split: true },
  [COLUMN.SplitReal32]: { bits: 32, natural: 'float32', split: true },
  [COLUMN.SplitReal64]: { bits: 64, natural: 'float64', split: true },
  [COLUMN.SplitIndex32]: { bits: 32, natural: 'index', split: true, delta: true },
  [COLUMN.SplitIndex64]: { bits: 64, natural: 'index', split: true, delta: true },
};

/** Why a column type cannot be decoded, or undefined when it can. */
export function unsupportedColumn(type: number, bitsOnStorage: number): string | undefined {
  const s = SPECS[type];
  if (!s) {
    if (type === COLUMN.Real32Trunc)
      return `column type Real32Trunc (${bitsOnStorage}-bit truncated floats) is not implemented`;
    if (type === COLUMN.Real32Quant)
      return `column type Real32Quant (${bitsOnStorage}-bit quantized floats) is not implemented`;
    if (type === COLUMN.Switch) return 'column type Switch (std::variant) is not implemented';
    return `column type 0x${type.toString(16)} is unknown to format 1.0`;
  }
  if (s.bits !== bitsOnStorage)
    return `column type ${columnTypeName(type)} with ${bitsOnStorage} bits on storage (expected ${s.bits})`;
  return undefined;
}

/** True for (Split)Index32/64 columns: cluster-relative end offsets of collections. */
export function isIndexColumn(type: number): boolean {
  return SPECS[type]?.natural === 'index';
}

/** Bytes of an uncompressed page of `n` elements. */
export function pageBytes(type: number, n: number): number {
  const s = SPECS[type];
  return Math.ceil((n * s.bits) / 8);
}

/** Undo byte splitting: element i's byte b is stored at b * n + i. */
export function unsplit(src: Uint8Array, n: number, width: number): Uint8Array {
  const out = new Uint8Array(n * width);
  for (let b = 0; b < width; b++) {
    const base = b * n;
    for (let i = 0; i < n; i++) out[i * width + b] = src[base + i];
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Decode one page of `n` elements of a column of `type`. Index columns come back as Float64Array of
 * cluster-relative end offsets; 64-bit integers as Float64Array (exact up to 2^53); bits as 0/1 bytes.
 */
export function decodePage(type: number, bytes: Uint8Array, n: number): NumericArray {
  const s = SPECS[type];
  if (!s) throw new RNTupleUnsupportedError(unsupportedColumn(type, 0) ?? `column type ${type}`, { columnType: type });
  const width = s.bits / 8;
  if (s.bits === 1) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (bytes[i >> 3] >> (i & 7)) & 1;
    return out;
  }
  const raw = s.split && width > 1 ? unsplit(bytes, n, width) : bytes.subarray(0, n * width);
  const dv = new DataView(raw.buffer, raw.byteOffset, n * width);
  switch (width) {
    case 1:
      return s.natural === 'int8' ? new Int8Array(raw.slice(0, n).buffer) : raw.slice(0, n);
    case 2: {
      if (s.natural === 'float32') {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
        return out;
      }
      if (s.natural === 'int16') {
        const out = new Int16Array(n);
        for (let i = 0; i < n; i++) {
          const v = dv.getUint16(2 * i, true);
          out[i] = s.zigzag ? (v >>> 1) ^ -(v & 1) : v;
        }
        return out;
      }
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getUint16(2 * i, true);
      return out;
    }
    case 4: {
      if (s.natural === 'float32') {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
        return out;
      }
      if (s.natural === 'int32') {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const v = dv.getUint32(4 * i, true);
          out[i] = s.zigzag ? (v >>> 1) ^ -(v & 1) : v;
        }
        return out;
      }
      if (s.natural === 'uint32') {
        const out = new Uint32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getUint32(4 * i, true);
        return out;
      }
      // index32
      const out = new Float64Array(n);
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const v = dv.getUint32(4 * i, true);
        acc = s.delta ? (i === 0 ? v : acc + v) : v;
        out[i] = acc;
      }
      return out;
    }
    default: {
      const out = new Float64Array(n);
      if (s.natural === 'float64') {
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
        return out;
      }
      if (s.natural !== 'int64') {
        // unsigned 64-bit (and index) values as numbers: exact below 2^53, which offsets never reach
        let acc = 0;
        for (let i = 0; i < n; i++) {
          const v = dv.getUint32(8 * i, true) + dv.getUint32(8 * i + 4, true) * 4294967296;
          acc = s.delta && i > 0 ? acc + v : v;
          out[i] = acc;
        }
        return out;
      }
      let acc = 0n;
      for (let i = 0; i < n; i++) {
        let v: bigint;
        if (s.natural === 'int64') {
          const u = dv.getBigUint64(8 * i, true);
          v = s.zigzag ? (u >> 1n) ^ -(u & 1n) : BigInt.asIntN(64, u);
        } else v = dv.getBigUint64(8 * i, true);
        if (s.delta) {
          acc = i === 0 ? v : acc + v;
          v = acc;
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}
