/**
 * ROOT's compression framing for writing: the payload is cut into blocks of at most 0xffffff bytes,
 * each compressed on its own behind a 9-byte header (algorithm tag, method, 3-byte compressed and
 * uncompressed sizes, little-endian). zlib blocks hold a zlib stream; LZ4 blocks the XXH64 of the
 * compressed bytes (big-endian) and a raw LZ4 block; ZSTD blocks one zstd frame (tag 'ZS', method 1,
 * as ROOT writes them; the zstd wasm must be loaded first, see `prepareCompression`). When compression does not make the payload
 * smaller, it is stored as is (readers tell by the sizes), as ROOT does.
 */
import { deflateSync } from 'node:zlib';
import { xxh64 } from '../root/xxhash64.ts';
import { loadZstd, zstdCompress } from './zstd.ts';

/** Codecs the writer offers. */
export type RootCodec = 'zlib' | 'lz4' | 'zstd' | 'none';

export interface Compression {
  readonly codec: RootCodec;
  /** 1..9 (zlib levels; ROOT's ZSTD levels, zstd level 2×L; for LZ4 only recorded in fCompress). */
  readonly level: number;
}

/** ROOT's algorithm numbers (ROOT::RCompressionSetting::EAlgorithm). */
const ALGORITHM: Record<Exclude<RootCodec, 'none'>, number> = { zlib: 1, lz4: 4, zstd: 5 };

/** ROOT's fCompress number: algorithm × 100 + level (zlib 1, LZ4 4, ZSTD 5; 0 for none). */
export function compressSetting(c: Compression): number {
  if (c.codec === 'none') return 0;
  return ALGORITHM[c.codec] * 100 + c.level;
}

/**
 * Load what `rootCompress` needs for `c` before the first (synchronous) call: the zstd wasm for
 * 'zstd', nothing otherwise. Rejects with ZstdUnavailableError when the wasm cannot load.
 *
 * @example
 * const c = { codec: 'zstd', level: 5 } as const;
 * await prepareCompression(c);
 * const framed = rootCompress(new Uint8Array(1000), c);
 */
export async function prepareCompression(c: Compression): Promise<void> {
  if (c.codec === 'zstd') await loadZstd();
}

const MAX_BLOCK = 0xffffff;
const HEADER = 9;
/** Block header bytes 0..2: algorithm tag and method ('ZL' deflate 8, 'L4' LZ4 version 1, 'ZS' zstd major version 1). */
const TAG = { zlib: [0x5a, 0x4c, 8], lz4: [0x4c, 0x34, 1], zstd: [0x5a, 0x53, 1] } as const;
/** ROOT's R__zipZSTD hands zstd twice its own level (ROOT 5 → zstd 10), so level 9 reaches zstd 18. */
const ZSTD_LEVEL_FACTOR = 2;

/** `data` compressed with ROOT framing, or `data` itself when that is not smaller. */
export function rootCompress(data: Uint8Array, c: Compression): Uint8Array {
  if (c.codec === 'none' || data.length < 64) return data;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let s = 0; s < data.length; s += MAX_BLOCK) {
    const block = data.subarray(s, Math.min(data.length, s + MAX_BLOCK));
    const body =
      c.codec === 'zlib'
        ? deflateSync(block, { level: c.level })
        : c.codec === 'lz4'
          ? lz4Framed(block)
          : zstdCompress(block, ZSTD_LEVEL_FACTOR * c.level);
    if (body.length > MAX_BLOCK) return data;
    const h = new Uint8Array(HEADER);
    h.set(TAG[c.codec]);
    h[3] = body.length & 0xff;
    h[4] = (body.length >>> 8) & 0xff;
    h[5] = (body.length >>> 16) & 0xff;
    h[6] = block.length & 0xff;
    h[7] = (block.length >>> 8) & 0xff;
    h[8] = (block.length >>> 16) & 0xff;
    parts.push(h, body);
    total += HEADER + body.length;
    if (total >= data.length) return data;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** XXH64 of the LZ4 block (big-endian), then the block. */
function lz4Framed(block: Uint8Array): Uint8Array {
  const lz = lz4EncodeBlock(block);
  const out = new Uint8Array(8 + lz.length);
  const [hi, lo] = xxh64(lz);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, hi);
  dv.setUint32(4, lo);
  out.set(lz, 8);
  return out;
}

const MIN_MATCH = 4;
const HASH_BITS = 16;
/** The format's end rules: the last 5 bytes are literals, and no match starts in the last 12. */
const LAST_LITERALS = 5;
const MF_LIMIT = 12;

/**
 * Greedy LZ4 block encoder (one hash table of 4-byte sequences). Output is a valid raw LZ4 block that
 * any LZ4 decoder (ROOT's, jsroot's, ours) expands back to `src`.
 */
export function lz4EncodeBlock(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new Uint8Array(n + Math.ceil(n / 255) + 16);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  let o = 0;
  let anchor = 0;
  let i = 0;
  const limit = n - MF_LIMIT;
  while (i < limit) {
    const seq = dv.getUint32(i, true);
    const h = Math.imul(seq, 2654435761) >>> (32 - HASH_BITS);
    const ref = table[h];
    table[h] = i;
    if (ref < 0 || i - ref > 0xffff || dv.getUint32(ref, true) !== seq) {
      i++;
      continue;
    }
    let len = MIN_MATCH;
    const maxLen = n - LAST_LITERALS - i;
    while (len < maxLen && src[ref + len] === src[i + len]) len++;
    o = emitSequence(out, o, src, anchor, i - anchor, i - ref, len - MIN_MATCH);
    i += len;
    anchor = i;
  }
  // last literals
  const lit = n - anchor;
  out[o++] = Math.min(lit, 15) << 4;
  if (lit >= 15) o = writeLength(out, o, lit - 15);
  out.set(src.subarray(anchor, n), o);
  o += lit;
  return out.subarray(0, o);
}

function writeLength(out: Uint8Array, o: number, rest: number): number {
  while (rest >= 255) {
    out[o++] = 255;
    rest -= 255;
  }
  out[o++] = rest;
  return o;
}

function emitSequence(
  out: Uint8Array,
  o: number,
  src: Uint8Array,
  litStart: number,
  litLen: number,
  offset: number,
  matchExtra: number,
): number {
  out[o++] = (Math.min(litLen, 15) << 4) | Math.min(matchExtra, 15);
  if (litLen >= 15) o = writeLength(out, o, litLen - 15);
  out.set(src.subarray(litStart, litStart + litLen), o);
  o += litLen;
  out[o++] = offset & 0xff;
  out[o++] = offset >>> 8;
  if (matchExtra >= 15) o = writeLength(out, o, matchExtra - 15);
  return o;
}
