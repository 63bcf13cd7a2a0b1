/**
 * LZ4 blocks (ROOT's L4 baskets): decoded in WebAssembly (./lz4.wat, bytes in ./lz4-wasm.ts) into the
 * caller's array, else by the JS decoder of src/io/root/lz4.ts (`RISTRETTO_CODECS=js`, or no
 * WebAssembly); both give the same bytes and throw Lz4FormatError (a CodecError) for a damaged block.
 *
 * Why not the native lz4-napi: it can only return a fresh Buffer per block (~430 MB of them for one
 * 20 M-event Q3 run, which the garbage collector then chases), and the wasm decoder is faster on real
 * baskets even counting its two copies (bench/native-codecs.ts, bench/RESULTS.md "Session 15: LZ4 in
 * WebAssembly"). The block is copied into the module's memory, decoded there, and the output copied
 * out: both copies run at memcpy speed.
 */
import { Lz4FormatError, lz4DecodeBlock } from '../root/lz4.ts';
import { LZ4_WASM_BASE64 } from './lz4-wasm.ts';
import { jsDecodersForced, noteDecoder } from './native.ts';

interface Lz4Wasm {
  readonly memory: WebAssembly.Memory;
  decode(src: number, srcEnd: number, dst: number, dstEnd: number): number;
}

/** What the wasm decoder's negative results mean (see lz4.wat). */
const FAILURES = [
  '',
  'literals run past the end of the block',
  'output larger than the declared uncompressed size',
  'match offset runs past the end of the block',
  'match offset points before the start of the output',
  'match length runs past the end of the block',
];

/** Bytes kept free behind the block and behind the output: the decoder's wide copies may touch them. */
const SLACK = 16;

/** LZ4 expands at most ~255-fold (a match length byte of 255 per 255 output bytes). */
const MAX_RATIO = 255;

let wasm: Lz4Wasm | null | undefined;
let heap = new Uint8Array(0);

// A block of 4 literals 'abcd' and a match of 8 bytes at offset 4 ('abcdabcdabcd'); the last 5 bytes
// must be literals in LZ4, so the block ends with the literals 'efghi'. Checks the loaded module.
const CHECK_BLOCK = [0x44, 0x61, 0x62, 0x63, 0x64, 0x04, 0x00, 0x50, 0x65, 0x66, 0x67, 0x68, 0x69];
const CHECK_TEXT = 'abcdabcdabcdefghi';

function load(): Lz4Wasm | null {
  if (jsDecodersForced()) {
    noteDecoder('lz4', 'js (RISTRETTO_CODECS=js)');
    return null;
  }
  try {
    const mod = new WebAssembly.Module(Buffer.from(LZ4_WASM_BASE64, 'base64'));
    wasm = new WebAssembly.Instance(mod).exports as unknown as Lz4Wasm;
    heap = new Uint8Array(wasm.memory.buffer);
    const out = new Uint8Array(CHECK_TEXT.length);
    const got = Buffer.from(out.subarray(0, decodeWasm(wasm, Uint8Array.from(CHECK_BLOCK), out, 0))).toString('latin1');
    if (got !== CHECK_TEXT) throw new Lz4FormatError(`its self-check decoded '${got}', not '${CHECK_TEXT}'`);
    noteDecoder('lz4', 'wasm');
    return wasm;
  } catch (e) {
    noteDecoder('lz4', `js (the wasm decoder did not load: ${(e as Error).message.split('\n')[0]})`);
    return null;
  }
}

function decoder(): Lz4Wasm | null {
  if (wasm === undefined) wasm = load();
  return wasm;
}

/** The decoder LZ4 blocks use in this thread (loads the wasm module on the first call). */
export function lz4Decoder(): 'wasm' | 'js' {
  return decoder() ? 'wasm' : 'js';
}

/**
 * One LZ4 block `src` decoded into a new array of at most `size` bytes (its length is what the block
 * holds: the caller checks it).
 * @throws Lz4FormatError when the block is damaged or decodes to more than `size` bytes.
 *
 * @example
 * ```ts
 * lz4Decompress(Uint8Array.of(0x44, 97, 98, 99, 100, 4, 0, 0x50, 101, 102, 103, 104, 105), 17).length; // 17
 * ```
 */
export function lz4Decompress(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const got = lz4DecompressInto(src, out, 0);
  return got === size ? out : out.subarray(0, got);
}

/**
 * Decode one LZ4 block `src` into `dst` from `at`, with at most `dst.length - at` bytes of output;
 * returns the number of bytes written. Bytes of `dst` outside those written are left as they were.
 * @throws Lz4FormatError when the block is damaged or decodes to more than fits.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(17); // 'abcdabcdabcdefghi'
 * lz4DecompressInto(Uint8Array.of(0x44, 97, 98, 99, 100, 4, 0, 0x50, 101, 102, 103, 104, 105), out); // 17
 * ```
 */
export function lz4DecompressInto(src: Uint8Array, dst: Uint8Array, at = 0): number {
  const w = decoder();
  // An output start past the array's end (no room at all) is left to the JS decoder, which says what
  // such a block gives; the wasm path's final copy would throw a RangeError there instead.
  return w && at <= dst.length ? decodeWasm(w, src, dst, at) : lz4DecodeBlock(src, dst, at);
}

function decodeWasm(w: Lz4Wasm, src: Uint8Array, dst: Uint8Array, at: number): number {
  // Room for the output: what `dst` has (none when `at` lies past its end), but never more than the
  // block can produce (a large `dst` must not grow the module's memory for nothing).
  const room = Math.max(0, Math.min(dst.length - at, src.length * MAX_RATIO + SLACK));
  const out = (src.length + SLACK + 7) & ~7;
  const need = out + room + SLACK;
  if (heap.length < need) {
    w.memory.grow(Math.ceil((need - heap.length) / 65536));
    heap = new Uint8Array(w.memory.buffer);
  }
  heap.set(src, 0);
  let got: number;
  try {
    got = w.decode(0, src.length, out, out + room);
  } catch (e) {
    throw new Lz4FormatError(`block does not decode: ${(e as Error).message}`, { cause: e });
  }
  if (got < 0) throw new Lz4FormatError(FAILURES[-got] ?? `block does not decode (code ${got})`);
  dst.set(heap.subarray(out, out + got), at);
  return got;
}
