/**
 * The jsroot modules Ristretto ships bundled under `vendor/jsroot/` (see scripts/build-vendor.mjs),
 * reached through the package's `#jsroot/*` imports. jsroot's own typings declare everything `any`;
 * the files that use them wrap the few functions they call in narrow interfaces.
 */
declare module '#jsroot/core';
declare module '#jsroot/io';
declare module '#jsroot/main';
declare module '#jsroot/lzma';
