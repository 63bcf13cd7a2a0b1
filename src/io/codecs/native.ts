/**
 * Which decoders run: native ones (N-API addons from optionalDependencies) when they load, else
 * Ristretto's JS/wasm ones. The one place that decides, for every codec module.
 *
 * Why only some codecs have a native decoder (bench/native-codecs.ts on real ADL pages and baskets,
 * bench/RESULTS.md "Session 13: native decoders"): the npm packages with prebuilt binaries on the npm
 * registry return a fresh Buffer per call, with no way to decode into the caller's array. For LZ4 the
 * native decoder (lz4-napi) still decodes ROOT baskets ~3.5× faster than src/io/root/lz4.ts. For snappy
 * the JS decoder copies Parquet's mostly-literal pages into place at memcpy speed and beats the native
 * `snappy` package by 4×, whose time goes into allocating each page; the zstd addon
 * (@toondepauw/node-zstd) is slower than libzstd in wasm (src/io/codecs/zstd.ts); zstd-napi and
 * @mongodb-js/zstd (7) fetch their binaries from GitHub at install (prebuild-install), which CI cannot
 * reach, and @mongodb-js/zstd 1.x decodes only asynchronously. zlib is native already (node:zlib); npm
 * has no libdeflate binding with prebuilt binaries.
 *
 * A native addon is loaded lazily, on the first block of its codec, through `createRequire` with the
 * package name in a variable, so bundlers leave it alone: in a worker thread or forked process it loads
 * again (N-API addons are context-aware); in the single-executable endpoint (no node_modules beside
 * it) or on a platform without a prebuilt package, loading fails and the JS decoder runs, silently —
 * the output is the same, only slower. `RISTRETTO_CODECS=js` forces the JS decoders (to compare, or to
 * rule out an addon); `codecDecoders()` says what runs.
 */
import { createRequire } from 'node:module';

/** Which decoder runs for a codec. */
export type CodecDecoder = 'native' | 'js';

/** Whether native decoders may run: `RISTRETTO_CODECS=js` (read once per thread) forbids them. */
export function nativeAllowed(): boolean {
  mode ??= process.env.RISTRETTO_CODECS?.trim().toLowerCase() === 'js' ? 'js' : 'auto';
  return mode === 'auto';
}
let mode: 'auto' | 'js' | undefined;

const reasons = new Map<string, string>();

/**
 * Load the addon `pkg` (undefined when not allowed or not loadable; the reason is kept for
 * `codecDecoders`). `check` runs once on the loaded module and throws when it does not decode right,
 * so a broken or mismatched binary is never used.
 */
export function loadNative<T>(codec: string, pkg: string, check: (mod: T) => void): T | undefined {
  if (!nativeAllowed()) {
    reasons.set(codec, 'js (RISTRETTO_CODECS=js)');
    return undefined;
  }
  try {
    const mod = createRequire(import.meta.url)(pkg) as T;
    check(mod);
    reasons.set(codec, `native (${pkg})`);
    return mod;
  } catch (e) {
    reasons.set(codec, `js (${pkg} did not load: ${(e as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

/**
 * The decoder chosen so far for each codec that has a native candidate, with the reason (a codec not
 * used yet in this thread is absent: loading is lazy).
 *
 * @example
 * ```ts
 * import { codecDecoders } from 'ristretto/io';
 * console.log(codecDecoders()); // { lz4: 'native (lz4-napi)' } after reading an LZ4 ROOT file
 * ```
 */
export function codecDecoders(): Record<string, string> {
  return Object.fromEntries(reasons);
}
