/**
 * Row-major layout of the bins (last axis fastest, flow bins included, as the UHI nested arrays) and
 * the one re-layout routine behind projection, slicing, rebinning, growth and merges of grown axes.
 */
import type { Arrays, BinMerger } from './accumulators.ts';

/** Row-major strides of a shape. */
export function stridesOf(extents: readonly number[]): number[] {
  const s = new Array<number>(extents.length);
  let acc = 1;
  for (let k = extents.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= extents[k];
  }
  return s;
}

/** Number of bins of a shape (1 for no axes). */
export function sizeOf(extents: readonly number[]): number {
  let n = 1;
  for (const e of extents) n *= e;
  return n;
}

/**
 * Re-lays out `src` into `dst` bin by bin. For source axis k, `maps[k][local]` is the local index on the
 * destination axis `target[k]` (or -1 to drop the bin); `target[k] = -1` sums the axis away. Bins that
 * land on the same destination bin are combined with the storage's `merge` rule.
 */
export function remap(
  src: Arrays,
  srcExtents: readonly number[],
  maps: readonly Int32Array[],
  target: readonly number[],
  dst: Arrays,
  dstExtents: readonly number[],
  merge: BinMerger,
): void {
  const nAxes = srcExtents.length;
  const dstStrides = stridesOf(dstExtents);
  const total = sizeOf(srcExtents);
  const local = new Int32Array(nAxes);
  for (let s = 0; s < total; s++) {
    let d = 0;
    let keep = true;
    for (let k = 0; k < nAxes; k++) {
      const m = maps[k][local[k]];
      if (m < 0) {
        keep = false;
        break;
      }
      const t = target[k];
      if (t >= 0) d += m * dstStrides[t];
    }
    if (keep) merge(dst, d, src, s);
    // odometer: advance the multi-index, last axis fastest
    for (let k = nAxes - 1; k >= 0; k--) {
      if (++local[k] < srcExtents[k]) break;
      local[k] = 0;
    }
  }
}

/** A map that keeps every local index in place, optionally shifted into a larger axis. */
export function identityMap(extent: number): Int32Array {
  const m = new Int32Array(extent);
  for (let i = 0; i < extent; i++) m[i] = i;
  return m;
}
