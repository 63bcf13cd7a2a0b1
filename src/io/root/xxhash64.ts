/**
 * XXH64 (seed 0), the checksum ROOT stores in front of every LZ4 block. Two implementations: xxHash's
 * own code compiled to WebAssembly (package xxhash-wasm; native 64-bit multiplies, ~30x the speed of
 * JS on real LZ4 blocks: 11 GB/s vs 0.39 GB/s CPU), loaded asynchronously once per thread by
 * `loadXxh64`; and the plain-JS `xxh64` below, which `xxh64Equals` uses until the wasm one has loaded
 * (so a synchronous read never waits for it and never depends on it). 64-bit words are kept as two
 * uint32 halves so the JS hash runs on plain numbers (BigInt arithmetic is several times slower).
 */
import xxhash from 'xxhash-wasm';

let wasmH64: ((data: Uint8Array) => bigint) | undefined;
let loading: Promise<void> | undefined;

/**
 * Load the WebAssembly XXH64 (compiles a ~2 KB module: about a millisecond, once per thread). Until it
 * resolves, `xxh64Equals` hashes in JS: same answers, slower.
 *
 * @example
 * ```ts
 * await loadXxh64();
 * xxh64Equals(new Uint8Array(0), 0xef46db37, 0x51d8e999); // true: the published XXH64 of no bytes
 * ```
 */
export function loadXxh64(): Promise<void> {
  loading ??= xxhash().then(
    (api) => {
      wasmH64 = (data) => api.h64Raw(data);
    },
    // No WebAssembly here (or it is disabled): stay on the JS hash, which gives the same answers.
    () => undefined,
  );
  return loading;
}

/**
 * Whether XXH64(data) equals the 64-bit value whose high and low 32-bit halves are `hi` and `lo`, with
 * the wasm hash when loaded (see `loadXxh64`), else the JS one.
 */
export function xxh64Equals(data: Uint8Array, hi: number, lo: number): boolean {
  if (wasmH64) return wasmH64(data) === ((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
  const [h, l] = xxh64(data);
  return h === hi >>> 0 && l === lo >>> 0;
}

// Constants as [hi, lo].
const P1H = 0x9e3779b1,
  P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d,
  P2L = 0x27d4eb4f;
const P3H = 0x165667b1,
  P3L = 0x9e3779f9;
const P4H = 0x85ebca77,
  P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f,
  P5L = 0x165667c5;

// Result registers of the 64-bit helpers below. A typed array, because module-level `let`s holding
// values above 2^31 would be boxed (one heap allocation per write).
const R = new Uint32Array(2);

function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff,
    a1 = al >>> 16,
    b0 = bl & 0xffff,
    b1 = bl >>> 16;
  const p01 = a0 * b1,
    p10 = a1 * b0;
  const mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[0] = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
  R[1] = Math.imul(al, bl) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const l = al + bl;
  R[1] = l >>> 0;
  R[0] = (ah + bh + (l > 0xffffffff ? 1 : 0)) >>> 0;
}

function rotl(h: number, l: number, r: number): void {
  R[0] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[1] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** round(acc, input) = rotl(acc + input * P2, 31) * P1, result in R. */
function round(acch: number, accl: number, inh: number, inl: number): void {
  mul(inh, inl, P2H, P2L);
  add(acch, accl, R[0], R[1]);
  rotl(R[0], R[1], 31);
  mul(R[0], R[1], P1H, P1L);
}

/** The high 32 bits of the 64-bit product of two uint32 (`lo` split in 16-bit halves: exact in doubles). */
function mulhi(a: number, lo: number): number {
  return Math.floor((Math.floor((a * (lo & 0xffff)) / 65536) + a * (lo >>> 16)) / 65536);
}

/** XXH64 of `data` with seed 0, as [high 32 bits, low 32 bits]. */
export function xxh64(data: Uint8Array): [number, number] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.length;
  let p = 0;
  let hh: number;
  let hl: number;
  if (len >= 32) {
    add(P1H, P1L, P2H, P2L);
    // The four accumulators in locals and each round written out: the hot loop of every LZ4 basket, ~3.5x
    // the speed of a helper function per lane keeping them in a typed array.
    let v1h = R[0],
      v1l = R[1],
      v2h = P2H,
      v2l = P2L,
      v3h = 0,
      v3l = 0,
      v4h = ~P1H >>> 0,
      v4l = -P1L >>> 0; // v4 = -P1 mod 2^64 (P1L is not 0: no borrow)
    let il: number, ih: number, tl: number, th: number, s: number, rh: number, rl: number;
    for (const limit = len - 32; p <= limit; p += 32) {
      // v = rotl(v + input * P2, 31) * P1, for each of the four lanes
      il = dv.getUint32(p, true);
      ih = dv.getUint32(p + 4, true);
      tl = Math.imul(il, P2L) >>> 0;
      th = mulhi(il, P2L) + Math.imul(ih, P2L) + Math.imul(il, P2H);
      s = tl + v1l;
      tl = s >>> 0;
      th = (th + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0;
      rh = ((th << 31) | (tl >>> 1)) >>> 0;
      rl = ((tl << 31) | (th >>> 1)) >>> 0;
      v1l = Math.imul(rl, P1L) >>> 0;
      v1h = (mulhi(rl, P1L) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;

      il = dv.getUint32(p + 8, true);
      ih = dv.getUint32(p + 12, true);
      tl = Math.imul(il, P2L) >>> 0;
      th = mulhi(il, P2L) + Math.imul(ih, P2L) + Math.imul(il, P2H);
      s = tl + v2l;
      tl = s >>> 0;
      th = (th + v2h + (s > 0xffffffff ? 1 : 0)) >>> 0;
      rh = ((th << 31) | (tl >>> 1)) >>> 0;
      rl = ((tl << 31) | (th >>> 1)) >>> 0;
      v2l = Math.imul(rl, P1L) >>> 0;
      v2h = (mulhi(rl, P1L) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;

      il = dv.getUint32(p + 16, true);
      ih = dv.getUint32(p + 20, true);
      tl = Math.imul(il, P2L) >>> 0;
      th = mulhi(il, P2L) + Math.imul(ih, P2L) + Math.imul(il, P2H);
      s = tl + v3l;
      tl = s >>> 0;
      th = (th + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0;
      rh = ((th << 31) | (tl >>> 1)) >>> 0;
      rl = ((tl << 31) | (th >>> 1)) >>> 0;
      v3l = Math.imul(rl, P1L) >>> 0;
      v3h = (mulhi(rl, P1L) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;

      il = dv.getUint32(p + 24, true);
      ih = dv.getUint32(p + 28, true);
      tl = Math.imul(il, P2L) >>> 0;
      th = mulhi(il, P2L) + Math.imul(ih, P2L) + Math.imul(il, P2H);
      s = tl + v4l;
      tl = s >>> 0;
      th = (th + v4h + (s > 0xffffffff ? 1 : 0)) >>> 0;
      rh = ((th << 31) | (tl >>> 1)) >>> 0;
      rl = ((tl << 31) | (th >>> 1)) >>> 0;
      v4l = Math.imul(rl, P1L) >>> 0;
      v4h = (mulhi(rl, P1L) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;
    }
    rotl(v1h, v1l, 1);
    hh = R[0];
    hl = R[1];
    rotl(v2h, v2l, 7);
    add(hh, hl, R[0], R[1]);
    hh = R[0];
    hl = R[1];
    rotl(v3h, v3l, 12);
    add(hh, hl, R[0], R[1]);
    hh = R[0];
    hl = R[1];
    rotl(v4h, v4l, 18);
    add(hh, hl, R[0], R[1]);
    hh = R[0];
    hl = R[1];
    for (const [vh, vl] of [
      [v1h, v1l],
      [v2h, v2l],
      [v3h, v3l],
      [v4h, v4l],
    ] as const) {
      round(0, 0, vh, vl);
      mul((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, P1H, P1L);
      add(R[0], R[1], P4H, P4L);
      hh = R[0];
      hl = R[1];
    }
  } else {
    hh = P5H;
    hl = P5L;
  }
  add(hh, hl, Math.floor(len / 4294967296), len >>> 0);
  hh = R[0];
  hl = R[1];
  for (; p + 8 <= len; p += 8) {
    round(0, 0, dv.getUint32(p + 4, true), dv.getUint32(p, true));
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 27);
    mul(R[0], R[1], P1H, P1L);
    add(R[0], R[1], P4H, P4L);
    hh = R[0];
    hl = R[1];
  }
  if (p + 4 <= len) {
    mul(0, dv.getUint32(p, true), P1H, P1L);
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 23);
    mul(R[0], R[1], P2H, P2L);
    add(R[0], R[1], P3H, P3L);
    hh = R[0];
    hl = R[1];
    p += 4;
  }
  for (; p < len; p++) {
    mul(0, data[p], P5H, P5L);
    rotl((hh ^ R[0]) >>> 0, (hl ^ R[1]) >>> 0, 11);
    mul(R[0], R[1], P1H, P1L);
    hh = R[0];
    hl = R[1];
  }
  // Avalanche.
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L);
  hh = R[0];
  hl = R[1];
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0;
  hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L);
  hh = R[0];
  hl = R[1];
  hl = (hl ^ hh) >>> 0;
  return [hh, hl];
}
