/**
 * ZSTD compression for the ROOT writer. Node 20 has no zstd compressor, so libzstd runs as
 * WebAssembly (src/io/codecs/zstd.ts, shared with the readers' decoder: one wasm instance per thread).
 * The writer asks for an explicit `loadZstd()` before it opens a file, so that a missing wasm is
 * reported before any byte is written; after that compression is synchronous, which keeps
 * `rootCompress` (called deep inside the basket writer) sync.
 */
import { RistrettoError } from '../../errors/index.ts';
import { loadZstd as loadLibzstd, zstdCompress as libzstdCompress } from '../codecs/zstd.ts';

/** The zstd codec is unusable: its wasm did not load, or was not loaded before writing. */
export class ZstdUnavailableError extends RistrettoError {}

let loading: Promise<void> | undefined;
let ready = false;

/**
 * Instantiate libzstd (once per process; later calls return the same promise). Rejects with
 * ZstdUnavailableError naming the package when the module or its .wasm cannot be loaded.
 *
 * @example
 * await loadZstd();
 * const frame = zstdCompress(new TextEncoder().encode('aaaaaaaaaaaa'), 5);
 */
export function loadZstd(): Promise<void> {
  loading ??= (async () => {
    try {
      await loadLibzstd();
      ready = true;
    } catch (e) {
      loading = undefined; // a later call may retry (e.g. after the package is reinstalled)
      throw new ZstdUnavailableError(
        `cannot load the zstd compressor (@bokuweb/zstd-wasm): ${(e as Error).message}`,
        { package: '@bokuweb/zstd-wasm' },
        'reinstall Ristretto so that node_modules/@bokuweb/zstd-wasm/dist/common/zstd.wasm exists, or use --compression zlib or lz4',
        { cause: e },
      );
    }
  })();
  return loading;
}

/** Whether `loadZstd()` has completed. */
export function zstdReady(): boolean {
  return ready;
}

/** One zstd frame holding `block` at zstd level `level`. Throws ZstdUnavailableError before `loadZstd()`. */
export function zstdCompress(block: Uint8Array, level: number): Uint8Array {
  if (!ready) {
    throw new ZstdUnavailableError(
      'zstd compression used before its wasm was loaded',
      {},
      'await loadZstd() (or prepareCompression) before writing a zstd-compressed ROOT file',
    );
  }
  return libzstdCompress(block, level);
}
