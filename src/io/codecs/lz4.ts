/**
 * LZ4 blocks (ROOT's L4 baskets): lz4-napi (lz4_flex in Rust, prebuilt per platform on npm) when it
 * loads, else the JS decoder of src/io/root/lz4.ts — see ./native.ts for how the choice is made and why
 * lz4 is the codec where native wins (~3.5× on real baskets, bench/RESULTS.md "Session 13").
 *
 * lz4-napi's API decodes a block prefixed by its decoded size (4 bytes, little-endian) into a new
 * Buffer, so a block is copied once behind a prefix into a reused scratch array and the result once into
 * the caller's array: both copies run at memcpy speed, a few percent of the decode. Both decoders
 * throw Lz4FormatError (a CodecError) for a block that does not decode.
 */
import { Lz4FormatError, lz4DecodeBlock } from '../root/lz4.ts';
import { type CodecDecoder, loadNative } from './native.ts';

interface Lz4Napi {
  uncompressSync(data: Uint8Array): Uint8Array;
}

let native: Lz4Napi | null | undefined;

/**
 * Blocks with less room than this decode in JS: a call into the addon costs ~1.4 µs, which the JS
 * decoder (~1 GB/s against ~3.5 GB/s native) spends on about 2 KB of output.
 */
export const LZ4_NATIVE_MIN_BYTES = 2048;
let scratch = new Uint8Array(0);

// A block of 4 literals 'abcd' and a match of 8 bytes at offset 4 ('abcdabcdabcd'); the last 5 bytes
// must be literals in LZ4, so the block ends with the literals 'efghi'. Checks a loaded binary.
const CHECK_BLOCK = [0x44, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x50, 0x65, 0x66, 0x67, 0x68, 0x69];
const CHECK_TEXT = 'abcdabcdabcdefghi';

function check(mod: Lz4Napi): void {
  const sized = new Uint8Array(4 + CHECK_BLOCK.length);
  new DataView(sized.buffer).setUint32(0, CHECK_TEXT.length, true);
  sized.set(CHECK_BLOCK, 4);
  const got = Buffer.from(mod.uncompressSync(sized)).toString('latin1');
  if (got !== CHECK_TEXT) throw new Lz4FormatError(`its self-check decoded '${got}', not '${CHECK_TEXT}'`);
}

function nativeDecoder(): Lz4Napi | null {
  if (native === undefined) native = loadNative<Lz4Napi>('lz4', 'lz4-napi', check) ?? null;
  return native;
}

/** The decoder LZ4 blocks use in this thread (loads lz4-napi on the first call). */
export function lz4Decoder(): CodecDecoder {
  return nativeDecoder() ? 'native' : 'js';
}

/**
 * One LZ4 block `src` decoded into a new array of at most `size` bytes (its length is what the block
 * holds: the caller checks it). The native decoder's own Buffer is returned as it is: no second array,
 * no copy — on this VM a fresh 400 KB array costs about as much as decoding it in JS (page faults), so
 * decoding into an array allocated beforehand would give back most of what the native decoder gains.
 * @throws Lz4FormatError when the block is damaged or decodes to more than `size` bytes.
 *
 * @example
 * ```ts
 * lz4Decompress(Uint8Array.of(0x44, 97, 98, 99, 100, 4, 0, 0x50, 101, 102, 103, 104, 105), 17).length; // 17
 * ```
 */
export function lz4Decompress(src: Uint8Array, size: number): Uint8Array {
  const n = size < LZ4_NATIVE_MIN_BYTES ? null : nativeDecoder();
  if (!n) {
    const out = new Uint8Array(size);
    const got = lz4DecodeBlock(src, out, 0);
    return got === size ? out : out.subarray(0, got);
  }
  return callNative(n, src, size);
}

/** lz4-napi on `src` behind its size prefix (`room`: the most bytes it may produce). */
function callNative(n: Lz4Napi, src: Uint8Array, room: number): Uint8Array {
  if (scratch.length < src.length + 4) scratch = new Uint8Array(Math.max(src.length + 4, 2 * scratch.length));
  new DataView(scratch.buffer).setUint32(0, room, true);
  scratch.set(src, 4);
  try {
    return n.uncompressSync(scratch.subarray(0, src.length + 4));
  } catch (e) {
    const why = (e as Error).message;
    throw new Lz4FormatError(
      /too small/.test(why) ? 'output larger than the declared uncompressed size' : `block does not decode: ${why}`,
      { cause: e },
    );
  }
}

/**
 * Decode one LZ4 block `src` into `dst` from `at`, with at most `dst.length - at` bytes of output;
 * returns the number of bytes written.
 * @throws Lz4FormatError when the block is damaged or decodes to more than fits.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(17); // 'abcdabcdabcdefghi' (small enough for the JS decoder)
 * lz4DecompressInto(Uint8Array.of(0x44, 97, 98, 99, 100, 4, 0, 0x50, 101, 102, 103, 104, 105), out); // 17
 * ```
 */
export function lz4DecompressInto(src: Uint8Array, dst: Uint8Array, at = 0): number {
  const room = dst.length - at;
  const n = room < LZ4_NATIVE_MIN_BYTES ? null : nativeDecoder();
  if (!n) return lz4DecodeBlock(src, dst, at);
  const out = callNative(n, src, room);
  dst.set(out, at);
  return out.length;
}
