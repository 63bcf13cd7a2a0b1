/**
 * XXH64 (seed 0), the checksum ROOT stores in front of every LZ4 block. 64-bit words are kept as two
 * uint32 halves so the hash runs on plain numbers (BigInt arithmetic is several times slower).
 */

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

/** In place on V[2i], V[2i+1]: round(v, input), with every intermediate in locals (the hot loop). */
function lane(V: Uint32Array, i: number, inh: number, inl: number): void {
  // t = input * P2
  let a0 = inl & 0xffff,
    a1 = inl >>> 16,
    b0 = P2L & 0xffff,
    b1 = P2L >>> 16;
  let p01 = a0 * b1,
    p10 = a1 * b0;
  let mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  let th = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(inh, P2L) + Math.imul(inl, P2H)) >>> 0;
  let tl = Math.imul(inl, P2L) >>> 0;
  // t += v
  const l = tl + V[2 * i + 1];
  tl = l >>> 0;
  th = (th + V[2 * i] + (l > 0xffffffff ? 1 : 0)) >>> 0;
  // t = rotl(t, 31)
  const rh = ((th << 31) | (tl >>> 1)) >>> 0;
  const rl = ((tl << 31) | (th >>> 1)) >>> 0;
  // v = t * P1
  a0 = rl & 0xffff;
  a1 = rl >>> 16;
  b0 = P1L & 0xffff;
  b1 = P1L >>> 16;
  p01 = a0 * b1;
  p10 = a1 * b0;
  mid = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  V[2 * i] = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(rh, P1L) + Math.imul(rl, P1H)) >>> 0;
  V[2 * i + 1] = Math.imul(rl, P1L) >>> 0;
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
    const V = new Uint32Array([R[0], R[1], P2H, P2L, 0, 0, ~P1H >>> 0, -P1L >>> 0]); // v4 = -P1 mod 2^64 (P1L is not 0: no borrow)
    for (const limit = len - 32; p <= limit; p += 32) {
      lane(V, 0, dv.getUint32(p + 4, true), dv.getUint32(p, true));
      lane(V, 1, dv.getUint32(p + 12, true), dv.getUint32(p + 8, true));
      lane(V, 2, dv.getUint32(p + 20, true), dv.getUint32(p + 16, true));
      lane(V, 3, dv.getUint32(p + 28, true), dv.getUint32(p + 24, true));
    }
    const [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l] = V as unknown as number[];
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
