/**
 * Zstandard for every reader and writer: libzstd compiled to WebAssembly (`@bokuweb/zstd-wasm`, whose
 * .wasm ships inside the npm package, so nothing is downloaded at install). Node 20's zlib has no zstd.
 *
 * Why libzstd in wasm rather than the pure-JS `fzstd`: on the ADL pages (Parquet, ~480 KiB each) and
 * ROOT ZS baskets it decodes ~2.8× faster (bench/zstd-decoders.ts), and it is the reference decoder, so
 * it also checks the frames' content checksums, which fzstd skips. A hand-written decoder would have to
 * re-derive the FSE/Huffman decoding that libzstd has tuned for years, and it would still be JS.
 *
 * One instance per thread (a worker thread loads its own). Loading is synchronous when needed (a compiled
 * 250 KB module, a few ms) so the synchronous read paths work without a preload; `loadZstd()` compiles off
 * the main thread first when an async moment exists. When the wasm cannot load, decoding falls back to
 * fzstd with one warning; compression has no fallback.
 *
 * Output cannot be written straight into a caller's array (wasm only writes its own memory), so frames
 * are decoded into a reused region of wasm memory and copied once into the destination: that copy runs at
 * memcpy speed (>15 GB/s), under 3 % of the decode.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decompress as fzstdDecompress } from 'fzstd';
import { CodecError } from './errors.ts';

/** Base of the zstd codec's errors. */
export class ZstdError extends CodecError {}

/** A zstd payload that does not decode to exactly the expected bytes; callers add file/column context. */
export class ZstdFrameError extends ZstdError {}

/** libzstd's wasm cannot be loaded (decoding then falls back to fzstd; compression cannot). */
export class ZstdLoadError extends ZstdError {}

/** The emscripten module of @bokuweb/zstd-wasm, the parts used here. */
interface Emscripten {
  calledRun?: boolean;
  HEAPU8: Uint8Array;
  instantiateWasm?: (
    imports: WebAssembly.Imports,
    receive: (instance: WebAssembly.Instance, module?: WebAssembly.Module) => void,
  ) => WebAssembly.Exports;
  init(buf?: Uint8Array): void;
  _malloc(n: number): number;
  _free(p: number): void;
  _ZSTD_isError(code: number): number;
  _ZSTD_decompress(dst: number, dstCap: number, src: number, srcSize: number): number;
  _ZSTD_compress(dst: number, dstCap: number, src: number, srcSize: number, level: number): number;
  _ZSTD_compressBound(n: number): number;
}

const PACKAGE = '@bokuweb/zstd-wasm';
let wasm: Emscripten | undefined;
let failure: Error | undefined;
let warned = false;
let compiling: Promise<void> | undefined;

/** The package's folder with its emscripten glue and .wasm (its `exports` map hides them from import). */
function packageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(PACKAGE));
}

/**
 * Start the emscripten runtime on `compiled` synchronously through its `instantiateWasm` hook (the
 * package's own `init()` only instantiates asynchronously).
 */
function start(compiled: WebAssembly.Module | undefined): Emscripten {
  if (wasm) return wasm;
  if (failure) throw failure;
  try {
    const dir = packageDir();
    const require = createRequire(import.meta.url);
    const M = (require(join(dir, 'module.js')) as { Module: Emscripten }).Module;
    if (!M.calledRun) {
      const mod = compiled ?? new WebAssembly.Module(readFileSync(join(dir, 'zstd.wasm')));
      M.instantiateWasm = (imports, receive) => {
        const instance = new WebAssembly.Instance(mod, imports);
        receive(instance, mod);
        return instance.exports;
      };
      M.init();
    }
    if (!M.calledRun) throw new Error('its runtime did not start');
    for (const f of ['_malloc', '_free', '_ZSTD_isError', '_ZSTD_decompress', '_ZSTD_compress'] as const)
      if (typeof M[f] !== 'function') throw new Error(`it lacks ${f.slice(1)}`);
    wasm = M;
    return M;
  } catch (e) {
    failure = new ZstdLoadError(
      `cannot load libzstd from ${PACKAGE}: ${(e as Error).message}`,
      { package: PACKAGE },
      `reinstall Ristretto so that node_modules/${PACKAGE}/dist/common/zstd.wasm exists`,
      { cause: e },
    );
    throw failure;
  }
}

/**
 * Load libzstd (once per thread): compile its wasm asynchronously, then start it. Optional — the first
 * zstd call loads it synchronously otherwise. Rejects when the wasm cannot load (decoding then uses
 * fzstd; compression is unavailable).
 *
 * @example
 * ```ts
 * await loadZstd();
 * const frame = zstdCompress(new TextEncoder().encode('aaaaaaaaaaaa'), 3);
 * const back = zstdDecompress(frame, 12);
 * ```
 */
export function loadZstd(): Promise<void> {
  if (wasm) return Promise.resolve();
  if (failure) return Promise.reject(failure);
  compiling ??= (async () => {
    let compiled: WebAssembly.Module | undefined;
    try {
      compiled = await WebAssembly.compile(await readFile(join(packageDir(), 'zstd.wasm')));
    } catch {
      compiled = undefined; // start() retries synchronously and reports the failure
    }
    start(compiled);
  })();
  return compiling;
}

/** Which decoder runs: 'wasm' (libzstd), or 'fzstd' after the wasm failed to load. Loads it if needed. */
export function zstdDecoder(): 'wasm' | 'fzstd' {
  return decoder() ? 'wasm' : 'fzstd';
}

/** The wasm module, or undefined (with one warning) when it cannot load. */
function decoder(): Emscripten | undefined {
  if (wasm) return wasm;
  try {
    return start(undefined);
  } catch (e) {
    if (!warned) {
      warned = true;
      process.emitWarning(`${(e as Error).message}; decoding zstd with the slower pure-JS fzstd meanwhile`, {
        code: 'RISTRETTO_ZSTD_FALLBACK',
      });
    }
    return undefined;
  }
}

// One input and one output region of wasm memory, reused call after call (grown, never shrunk below).
let srcPtr = 0;
let srcCap = 0;
let dstPtr = 0;
let dstCap = 0;

function reserve(M: Emscripten, src: number, dst: number): void {
  if (src > srcCap) {
    if (srcPtr) M._free(srcPtr);
    srcCap = Math.max(src, srcCap * 2, 1 << 16);
    srcPtr = M._malloc(srcCap);
    if (!srcPtr) throw outOfMemory(srcCap);
  }
  if (dst > dstCap) {
    if (dstPtr) M._free(dstPtr);
    dstCap = Math.max(dst, dstCap * 2, 1 << 16);
    dstPtr = M._malloc(dstCap);
    if (!dstPtr) throw outOfMemory(dstCap);
  }
}

function outOfMemory(n: number): Error {
  srcPtr = srcCap = dstPtr = dstCap = 0; // the failed region was not allocated; start afresh next time
  return new ZstdFrameError(`libzstd could not allocate ${n} bytes of wasm memory`);
}

// zstd_errors.h codes worth naming; others are reported by number.
const ERRORS: Record<number, string> = {
  10: 'not a zstd frame (unknown magic number)',
  12: 'unsupported zstd version',
  14: 'unsupported frame parameter',
  16: 'window too large',
  20: 'corrupted data',
  22: 'content checksum mismatch',
  24: 'literals header wrong',
  70: 'frames hold more bytes than expected',
  72: 'frame truncated or with trailing bytes',
};

function errorText(code: number): string {
  const n = -code | 0;
  return ERRORS[n] ?? `libzstd error ${n}`;
}

/**
 * The most bytes `src` can decode to: a zstd block expands at most 128 KiB from 4 bytes (an RLE block),
 * so a size above this comes from a damaged header and must not size a buffer.
 */
export function zstdMaxSize(src: Uint8Array): number {
  return src.length * 32768;
}

/**
 * Decode `src` (one or more zstd frames, skippable frames allowed) into all of `dst`. Throws
 * ZstdFrameError when a frame is damaged, fails its checksum, or the frames do not hold exactly
 * `dst.length` bytes.
 *
 * @example
 * ```ts
 * const out = new Uint8Array(pageSize); // or a slice of the column being filled
 * zstdDecompressInto(frame, out);
 * ```
 */
export function zstdDecompressInto(src: Uint8Array, dst: Uint8Array): void {
  const size = dst.length;
  const M = decoder();
  if (!M) {
    let got: Uint8Array;
    try {
      got = fzstdDecompress(src);
    } catch (e) {
      throw new ZstdFrameError(`zstd data do not decode: ${(e as Error).message}`, {}, undefined, { cause: e });
    }
    if (got.length !== size) throw new ZstdFrameError(`zstd frames hold ${got.length} bytes, ${size} expected`);
    dst.set(got);
    return;
  }
  reserve(M, src.length, size);
  M.HEAPU8.set(src, srcPtr); // HEAPU8 is re-read: malloc may have grown (and replaced) the memory
  const r = M._ZSTD_decompress(dstPtr, size, srcPtr, src.length);
  if (M._ZSTD_isError(r)) {
    if (-r === 70) throw new ZstdFrameError(`zstd frames hold more than the ${size} bytes expected`);
    throw new ZstdFrameError(`zstd data do not decode: ${errorText(r)}`);
  }
  if (r !== size) throw new ZstdFrameError(`zstd frames hold ${r} bytes, ${size} expected`);
  dst.set(M.HEAPU8.subarray(dstPtr, dstPtr + size));
}

/** `src` decoded into a new array of exactly `size` bytes (see zstdDecompressInto). */
export function zstdDecompress(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  zstdDecompressInto(src, out);
  return out;
}

/**
 * One zstd frame holding `block` at `level` (1–22). Throws when libzstd cannot load (there is no
 * pure-JS compressor); `loadZstd()` first turns that into an awaited rejection.
 */
export function zstdCompress(block: Uint8Array, level: number): Uint8Array {
  const M = start(undefined);
  const bound = M._ZSTD_compressBound(block.length);
  reserve(M, block.length, bound);
  M.HEAPU8.set(block, srcPtr);
  const r = M._ZSTD_compress(dstPtr, bound, srcPtr, block.length, level);
  if (M._ZSTD_isError(r)) throw new ZstdError(`libzstd failed to compress ${block.length} bytes: ${errorText(r)}`);
  return M.HEAPU8.slice(dstPtr, dstPtr + r);
}
