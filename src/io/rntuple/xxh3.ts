/**
 * XXH3-64 with seed 0 and the default secret: the checksum RNTuple stores after its anchor, every
 * envelope and (optionally) every page. Written from the xxHash specification (doc/xxhash_spec.md).
 * Short inputs use BigInt arithmetic; the stripe loop of long inputs (pages) runs on uint32 halves.
 */

const SECRET = new Uint8Array([
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c, 0xde, 0xd4, 0x6d,
  0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f, 0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0,
  0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21, 0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0,
  0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c, 0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b,
  0x1b, 0x53, 0x2e, 0xa3, 0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac,
  0xd8, 0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d, 0x8a, 0x51,
  0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64, 0xea, 0xc5, 0xac, 0x83, 0x34,
  0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb, 0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49,
  0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e, 0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8,
  0xd1, 0x7a, 0xd0, 0x31, 0xce, 0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b,
  0x40, 0x7e,
]);
const SECRET_LEN = SECRET.length;
const SDV = new DataView(SECRET.buffer);

const M64 = (1n << 64n) - 1n;
const P32_1 = 0x9e3779b1n;
const P32_2 = 0x85ebca77n;
const P32_3 = 0xc2b2ae3dn;
const P64_1 = 0x9e3779b185ebca87n;
const P64_2 = 0xc2b2ae3d27d4eb4fn;
const P64_3 = 0x165667b19e3779f9n;
const P64_4 = 0x85ebca77c2b2ae63n;
const P64_5 = 0x27d4eb2f165667c5n;
const PMX1 = 0x165667919e3779f9n;
const PMX2 = 0x9fb21c651e98df25n;

const s64 = (off: number): bigint => SDV.getBigUint64(off, true);
const s32 = (off: number): bigint => BigInt(SDV.getUint32(off, true));

function avalanche(x: bigint): bigint {
  x ^= x >> 37n;
  x = (x * PMX1) & M64;
  return x ^ (x >> 32n);
}

function avalancheXxh64(x: bigint): bigint {
  x ^= x >> 33n;
  x = (x * P64_2) & M64;
  x ^= x >> 29n;
  x = (x * P64_3) & M64;
  return x ^ (x >> 32n);
}

function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & M64;
}

function bswap64(x: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 8; i++) {
    r = (r << 8n) | (x & 0xffn);
    x >>= 8n;
  }
  return r;
}

/** Fold the 128-bit product of two 64-bit values: low xor high. */
function mulFold(a: bigint, b: bigint): bigint {
  const p = a * b;
  return (p & M64) ^ (p >> 64n);
}

function mixStep(dv: DataView, at: number, secretOffset: number): bigint {
  const lo = dv.getBigUint64(at, true);
  const hi = dv.getBigUint64(at + 8, true);
  return mulFold(lo ^ s64(secretOffset), hi ^ s64(secretOffset + 8));
}

/** XXH3-64 (seed 0) of `data`, as an unsigned 64-bit bigint. */
export function xxh3(data: Uint8Array): bigint {
  const n = data.length;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (n === 0) return avalancheXxh64(s64(56) ^ s64(64));
  if (n <= 3) {
    const combined = BigInt((data[n - 1] | (n << 8) | (data[0] << 16) | (data[n >> 1] << 24)) >>> 0);
    return avalancheXxh64(s32(0) ^ s32(4) ^ combined);
  }
  if (n <= 8) {
    const first = BigInt(dv.getUint32(0, true));
    const last = BigInt(dv.getUint32(n - 4, true));
    const combined = last | (first << 32n);
    let v = s64(8) ^ s64(16) ^ combined; // modified seed is 0
    v = v ^ rotl64(v, 49n) ^ rotl64(v, 24n);
    v = (v * PMX2) & M64;
    v ^= (v >> 35n) + BigInt(n);
    v = (v * PMX2) & M64;
    return v ^ (v >> 28n);
  }
  if (n <= 16) {
    const low = s64(24) ^ s64(32) ^ dv.getBigUint64(0, true);
    const high = s64(40) ^ s64(48) ^ dv.getBigUint64(n - 8, true);
    const v = (BigInt(n) + bswap64(low) + high + mulFold(low, high)) & M64;
    return avalanche(v);
  }
  if (n <= 128) {
    let acc = (BigInt(n) * P64_1) & M64;
    const rounds = ((n - 1) >> 5) + 1;
    for (let i = rounds - 1; i >= 0; i--) {
      acc += mixStep(dv, i * 16, i * 32);
      acc += mixStep(dv, n - i * 16 - 16, i * 32 + 16);
    }
    return avalanche(acc & M64);
  }
  if (n <= 240) {
    let acc = (BigInt(n) * P64_1) & M64;
    const chunks = n >> 4;
    for (let i = 0; i < 8; i++) acc += mixStep(dv, i * 16, i * 16);
    acc = avalanche(acc & M64);
    for (let i = 8; i < chunks; i++) acc += mixStep(dv, i * 16, (i - 8) * 16 + 3);
    acc += mixStep(dv, n - 16, 119);
    return avalanche(acc & M64);
  }
  return xxh3Long(data, dv);
}

/**
 * Accumulators as uint32 halves: A[2i] high, A[2i+1] low. One accumulate step of a 64-byte stripe at
 * `at` with the secret at `so`: acc[i^1] += lane, acc[i] += lo32(lane ^ secret) * hi32(lane ^ secret).
 */
function accumulate(A: Uint32Array, dv: DataView, at: number, so: number): void {
  for (let i = 0; i < 8; i++) {
    const dl = dv.getUint32(at + 8 * i, true);
    const dh = dv.getUint32(at + 8 * i + 4, true);
    const vl = (dl ^ SDV.getUint32(so + 8 * i, true)) >>> 0;
    const vh = (dh ^ SDV.getUint32(so + 8 * i + 4, true)) >>> 0;
    // acc[i ^ 1] += lane
    const j = i ^ 1;
    let l = A[2 * j + 1] + dl;
    A[2 * j] = A[2 * j] + dh + (l > 0xffffffff ? 1 : 0);
    A[2 * j + 1] = l;
    // acc[i] += vl * vh (full 64-bit product of two uint32)
    const a0 = vl & 0xffff,
      a1 = vl >>> 16,
      b0 = vh & 0xffff,
      b1 = vh >>> 16;
    const p00 = a0 * b0,
      p01 = a0 * b1,
      p10 = a1 * b0,
      p11 = a1 * b1;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const plo = ((mid & 0xffff) * 0x10000 + (p00 & 0xffff)) >>> 0;
    const phi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
    l = A[2 * i + 1] + plo;
    A[2 * i] = A[2 * i] + phi + (l > 0xffffffff ? 1 : 0);
    A[2 * i + 1] = l;
  }
}

function scramble(A: Uint32Array): void {
  const so = SECRET_LEN - 64;
  for (let i = 0; i < 8; i++) {
    let a = (BigInt(A[2 * i]) << 32n) | BigInt(A[2 * i + 1]);
    a ^= a >> 47n;
    a ^= s64(so + 8 * i);
    a = (a * P32_1) & M64;
    A[2 * i] = Number(a >> 32n);
    A[2 * i + 1] = Number(a & 0xffffffffn);
  }
}

function xxh3Long(data: Uint8Array, dv: DataView): bigint {
  const n = data.length;
  const init = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1];
  const A = new Uint32Array(16);
  init.forEach((v, i) => {
    A[2 * i] = Number(v >> 32n);
    A[2 * i + 1] = Number(v & 0xffffffffn);
  });
  const stripesPerBlock = (SECRET_LEN - 64) / 8;
  const blockSize = 64 * stripesPerBlock;
  const fullBlocks = Math.floor((n - 1) / blockSize);
  for (let b = 0; b < fullBlocks; b++) {
    for (let s = 0; s < stripesPerBlock; s++) accumulate(A, dv, b * blockSize + s * 64, s * 8);
    scramble(A);
  }
  const lastStart = fullBlocks * blockSize;
  const nStripes = Math.floor((n - lastStart - 1) / 64);
  for (let s = 0; s < nStripes; s++) accumulate(A, dv, lastStart + s * 64, s * 8);
  accumulate(A, dv, n - 64, SECRET_LEN - 71);
  // final merge
  let result = (BigInt(n) * P64_1) & M64;
  for (let i = 0; i < 4; i++) {
    const a0 = (BigInt(A[4 * i]) << 32n) | BigInt(A[4 * i + 1]);
    const a1 = (BigInt(A[4 * i + 2]) << 32n) | BigInt(A[4 * i + 3]);
    result += mulFold(a0 ^ s64(11 + 16 * i), a1 ^ s64(11 + 16 * i + 8));
  }
  return avalanche(result & M64);
}

/** For tests: the 64-bit hash as 16 hex digits. */
export function xxh3Hex(data: Uint8Array): string {
  return xxh3(data).toString(16).padStart(16, '0');
}
