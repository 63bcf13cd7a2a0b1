// Stands in for @oneidentity/zstd-js inside the vendored jsroot (scripts/build-vendor.mjs): jsroot only
// needs `ZstdInit() → { ZstdStream.decompress(bytes) }` to read ZSTD-compressed objects, and fzstd
// (pure JS, already a Ristretto dependency) does that without the 65 MB of WebAssembly builds.
import { decompress } from 'fzstd';

export async function ZstdInit() {
  return {
    ZstdStream: { decompress: (bytes) => decompress(bytes) },
    ZstdSimple: { decompress: (bytes) => decompress(bytes) },
  };
}
