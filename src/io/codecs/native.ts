/**
 * Which decoders run, and why: the one place that records it, for every codec module.
 *
 * No codec uses a native (N-API) addon now. The npm packages with prebuilt binaries on the npm registry
 * return a fresh Buffer per call, with no way to decode into the caller's array (bench/RESULTS.md
 * "Session 13: native decoders"): for snappy the JS decoder beats the native `snappy` package by 4×;
 * the zstd addon (@toondepauw/node-zstd) is slower than libzstd in wasm (src/io/codecs/zstd.ts); and
 * for LZ4, whose lz4-napi decoded ~3.5× faster than the JS decoder, a small WebAssembly decoder that
 * writes into the caller's memory is faster still and spares the garbage collector a Buffer per basket
 * (src/io/codecs/lz4.ts). zlib is native already (node:zlib).
 *
 * `RISTRETTO_CODECS=js` forces the JavaScript LZ4 decoder (to compare, or to rule out the wasm one);
 * `codecDecoders()` says what runs.
 */

/** Whether `RISTRETTO_CODECS=js` (read once per thread) asks for the JavaScript decoders only. */
export function jsDecodersForced(): boolean {
  mode ??= process.env.RISTRETTO_CODECS?.trim().toLowerCase() === 'js' ? 'js' : 'auto';
  return mode === 'js';
}
let mode: 'auto' | 'js' | undefined;

const reasons = new Map<string, string>();

/** Record which decoder `codec` uses in this thread and why (e.g. 'wasm', 'js (RISTRETTO_CODECS=js)'). */
export function noteDecoder(codec: string, how: string): void {
  reasons.set(codec, how);
}

/**
 * The decoder chosen so far for each codec that has a choice, with the reason (a codec not
 * used yet in this thread is absent: loading is lazy).
 *
 * @example
 * ```ts
 * import { codecDecoders } from 'ristretto/io';
 * console.log(codecDecoders()); // { lz4: 'wasm' } after reading an LZ4 ROOT file
 * ```
 */
export function codecDecoders(): Record<string, string> {
  return Object.fromEntries(reasons);
}
