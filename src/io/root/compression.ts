/**
 * ROOT's compression framing: a compressed payload is a sequence of blocks, each with a 9-byte header
 * (2-char algorithm, method byte, 3-byte compressed and 3-byte uncompressed sizes, little-endian).
 * This module only turns such a payload into exactly the declared number of bytes, or throws.
 */
/// <reference path="../../types/jsroot-vendor.d.ts" />
import { crc32 } from 'node:zlib';
import { CodecError } from '../codecs/errors.ts';
import { inflateInto } from '../codecs/inflate.ts';
import { zstdDecompressInto } from '../codecs/zstd.ts';
import { lz4DecompressInto } from '../codecs/lz4.ts';
import { xxh64Equals } from './xxhash64.ts';

/**
 * A ROOT-framed payload that does not decompress to its declared size: a CodecError like every other
 * decoder failure (so `e instanceof CodecError` holds for damaged ROOT baskets too), `context.codec`
 * naming the block's codec when one was read. The basket layer wraps it with file/branch/basket context.
 */
export class DecompressionError extends CodecError {
  constructor(message: string, codec?: string, options?: { cause?: unknown }) {
    super(message, codec === undefined ? {} : { codec }, undefined, options);
  }
}

const HEADER = 9;
const LZ4_CHECKSUM = 8;

type LzmaDecompress = (src: Uint8Array, dst: Uint8Array, expected: number) => number;
let lzma: Promise<LzmaDecompress> | undefined;
/** The loaded decoder, for the synchronous path (a module cannot be imported synchronously). */
let lzmaLoaded: LzmaDecompress | undefined;

/**
 * Load jsroot's pure-JS LZMA decoder (Node has no built-in xz). `rootDecompress` does it on the first XZ
 * block; call it (once per thread, ~2 ms) before relying on `rootDecompressSync` for XZ baskets.
 */
export function loadLzma(): Promise<LzmaDecompress> {
  lzma ??= import('#jsroot/lzma').then((mod: { decompress: LzmaDecompress }) => (lzmaLoaded = mod.decompress));
  return lzma;
}

/** `rootDecompressSync` met an XZ block before `loadLzma` finished: a usage error, not damaged data. */
export class LzmaNotLoadedError extends Error {}

/** The codec names found in a payload's block headers (for benchmarks and messages). */
export function codecOf(payload: Uint8Array): string {
  if (payload.length < HEADER) return 'none';
  const tag = String.fromCharCode(payload[0], payload[1]);
  return (
    ({ ZL: 'zlib', CS: 'zlib-old', L4: 'lz4', XZ: 'lzma', ZS: 'zstd' } as Record<string, string>)[tag] ??
    `unknown(${tag})`
  );
}

/**
 * Decompress a ROOT-framed payload into exactly `size` bytes. Throws DecompressionError when a block
 * header is malformed, a codec fails, or the blocks do not add up to `size` with no bytes left over.
 */
export async function rootDecompress(payload: Uint8Array, size: number): Promise<Uint8Array> {
  try {
    return rootDecompressSync(payload, size);
  } catch (e) {
    if (!(e instanceof LzmaNotLoadedError)) throw e;
    await loadLzma();
    return rootDecompressSync(payload, size);
  }
}

/**
 * `rootDecompress` without awaiting: every codec (zlib, old zlib, LZ4, ZSTD) decodes synchronously;
 * XZ needs `loadLzma()` to have finished first, else LzmaNotLoadedError.
 *
 * `alloc`, when given, supplies the output's memory (a reader's per-read scratch, src/io/root/scratch.ts;
 * it is asked for `size + 64` bytes, the room zlib needs to see a stream's end): every codec then
 * decodes into it and the result is a view of it. Without it, the output is a fresh array.
 *
 * @example
 * ```ts
 * await loadLzma(); // only needed for XZ baskets
 * const data = rootDecompressSync(payload, objlen);
 * ```
 */
export function rootDecompressSync(payload: Uint8Array, size: number, alloc?: (n: number) => Uint8Array): Uint8Array {
  let out: Uint8Array | undefined;
  // The output with ZLIB_ROOM bytes behind it: zlib writes a block's stream into its place plus room.
  let room: Uint8Array | undefined;
  const output = (): Uint8Array => {
    if (!out) {
      room = alloc ? alloc(size + ZLIB_ROOM) : new Uint8Array(size + ZLIB_ROOM);
      out = room.subarray(0, size);
    }
    return out;
  };
  let s = 0;
  let d = 0;
  while (d < size) {
    if (s + HEADER > payload.length)
      throw new DecompressionError(
        `block header at byte ${s} runs past the payload (${payload.length} bytes) after ${d} of ${size} bytes`,
      );
    const a = payload[s];
    const b = payload[s + 1];
    const csize = payload[s + 3] | (payload[s + 4] << 8) | (payload[s + 5] << 16);
    const usize = payload[s + 6] | (payload[s + 7] << 8) | (payload[s + 8] << 16);
    const bodyStart = s + HEADER;
    const bodyEnd = bodyStart + csize;
    if (bodyEnd > payload.length)
      throw new DecompressionError(
        `block at byte ${s} declares ${csize} compressed bytes, only ${payload.length - bodyStart} remain`,
      );
    if (d + usize > size) throw new DecompressionError(`blocks decompress to more than the declared ${size} bytes`);
    const body = payload.subarray(bodyStart, bodyEnd);
    const tag = String.fromCharCode(a, b);
    let got: number;
    try {
      if (tag === 'ZS') {
        // libzstd (wasm) decodes into its own memory; one copy lands the block at its place in `out`.
        zstdDecompressInto(body, output().subarray(d, d + usize));
        got = usize;
      } else if (tag === 'ZL' || tag === 'CS') {
        // ZL carries a zlib stream (checked by its adler32); CS, the pre-v5 format, raw deflate. The
        // stream is inflated in place with room to spare behind it (a block that holds more than its
        // header declares fails the size check below; a stream cut short fails in zlib).
        output();
        got = inflateInto(body, (room as Uint8Array).subarray(0, d + usize + ZLIB_ROOM), d, tag === 'CS');
      } else if (tag === 'L4') {
        if (csize < LZ4_CHECKSUM)
          throw new DecompressionError(`LZ4 block at byte ${s} is shorter than its checksum`, 'lz4');
        checkLz4Checksum(body, s);
        got = lz4DecompressInto(body.subarray(LZ4_CHECKSUM), output().subarray(0, d + usize), d);
      } else if (tag === 'XZ') {
        if (!lzmaLoaded) throw new LzmaNotLoadedError('the LZMA decoder is not loaded: await loadLzma() first');
        got = lzmaLoaded(body, output().subarray(d, d + usize), usize);
        if (got === usize) checkXzCrc(body, output().subarray(d, d + usize), s);
      } else {
        throw new DecompressionError(`unknown compression algorithm '${tag}' (bytes ${a}, ${b}) in block at byte ${s}`);
      }
    } catch (e) {
      if (e instanceof DecompressionError || e instanceof LzmaNotLoadedError) throw e;
      // Every decoder failure, whatever it threw (jsroot's LZMA decoder throws plain Errors), becomes one.
      throw new DecompressionError(
        `${codecOf(payload.subarray(s))} block at byte ${s} failed to decompress: ${(e as Error).message}`,
        codecOf(payload.subarray(s)),
        { cause: e },
      );
    }
    if (got !== usize)
      throw new DecompressionError(
        `${codecOf(payload.subarray(s))} block at byte ${s} gave ${got} bytes, its header declares ${usize}`,
        codecOf(payload.subarray(s)),
      );
    s = bodyEnd;
    d += usize;
  }
  if (s !== payload.length)
    throw new DecompressionError(`${payload.length - s} bytes left over after decompressing ${size} bytes`);
  return out ?? new Uint8Array(0);
}

/** Room behind a zlib block's output: inflate needs some to tell a stream's end from a longer stream. */
const ZLIB_ROOM = 64;

/** ROOT precedes each LZ4 block with the XXH64 of the compressed bytes, big-endian. */
function checkLz4Checksum(body: Uint8Array, at: number): void {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (!xxh64Equals(body.subarray(LZ4_CHECKSUM), dv.getUint32(0), dv.getUint32(4)))
    throw new DecompressionError(`LZ4 block at byte ${at} fails its XXH64 checksum`, 'lz4');
}

/**
 * jsroot's LZMA decoder skips the xz container, so its check is verified here: for the single-block
 * streams ROOT writes with a CRC-32 check (stream flags check type 1), the 4 bytes before the index hold
 * the CRC-32 of the block's uncompressed data. Other check types and multi-block streams are left alone.
 */
function checkXzCrc(xz: Uint8Array, data: Uint8Array, at: number): void {
  const n = xz.length;
  // Stream header: magic FD 37 7A 58 5A 00, flags 00 <check>; footer: CRC32, backward size, flags, 'YZ'.
  if (n < 32 || xz[0] !== 0xfd || xz[1] !== 0x37 || xz[n - 2] !== 0x59 || xz[n - 1] !== 0x5a) return;
  if ((xz[7] & 0x0f) !== 1) return;
  const dv = new DataView(xz.buffer, xz.byteOffset, n);
  const indexSize = (dv.getUint32(n - 8, true) + 1) * 4;
  const index = n - 12 - indexSize;
  // Index: indicator 0x00, then the number of records (a varint): check only one-block streams.
  if (index < 16 || xz[index] !== 0 || xz[index + 1] !== 1) return;
  if (dv.getUint32(index - 4, true) !== crc32(data))
    throw new DecompressionError(`LZMA block at byte ${at} fails its CRC-32 check`, 'lzma');
}
