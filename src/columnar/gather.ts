/** Gathering elements by global index: the step that turns index lists (combinations, selections) into values. */
import type { NumericArray } from './types.ts';
import { ctorOf } from './shape.ts';
import { perDtype } from './specialize.ts';
import { InvalidArgumentError } from './errors.ts';

/**
 * `out[k] = content[index[k]]`, in the dtype of `content`. Indices are global (into `content`, not per event);
 * an index outside `[0, content.length)` throws.
 *
 * @example
 * ```ts
 * const pairs = combinations(muons, 2);
 * const pt0 = gather(muons.fields.pt, pairs.i0);   // pt of the first muon of every pair, aligned with pairs.offsets
 * ```
 */
export function gather<T extends NumericArray>(content: T, index: Int32Array): T {
  const out = new (ctorOf(content))(index.length);
  gatherInto(content, index, out, 'gather');
  return out;
}

/** Internal form of {@link gather} writing into a preallocated array. */
export function gatherInto(content: ArrayLike<number>, index: Int32Array, out: NumericArray, operation: string): void {
  const len = content.length;
  const bad = gatherLoop(content, out)(content, index, out, len);
  if (bad >= 0) throw outOfRange(operation, bad, index[bad], len);
}

/** Gathers until the first index outside `[0, len)`; returns its position, or -1 when all were in range. */
const gatherLoop = perDtype(function gather(
  content: ArrayLike<number>,
  index: Int32Array,
  out: NumericArray,
  len: number,
): number {
  for (let k = 0; k < index.length; k++) {
    const j = index[k];
    // One unsigned compare rejects both negative and too-large indices.
    if (j >>> 0 >= len) return k;
    out[k] = content[j];
  }
  return -1;
});

function outOfRange(operation: string, position: number, index: number, length: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `${operation}: index ${index} at position ${position} is outside the content (length ${length})`,
    { operation, position, index, length },
    'Index lists hold global indices into the content they were built from; gather from that same content.',
  );
}
