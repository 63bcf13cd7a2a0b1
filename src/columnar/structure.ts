/** Kernels about list structure rather than values: counts, flatten, local index, broadcasting per-event values. */
import type { Collection, Jagged, NumericArray } from './types.ts';
import { checkFlat, checkJagged, ctorOf, eventsOf, fieldOf } from './shape.ts';
import { perDtype } from './specialize.ts';

/** Anything with per-event offsets: a jagged column, a collection, combinations. */
export interface HasOffsets {
  readonly offsets: Int32Array;
}

/**
 * Number of elements of each event's list (`nMuon`).
 *
 * @example
 * ```ts
 * const nMuon = counts(events.Muon);        // Int32Array, one per event
 * const twoMuons = ge(nMuon, 2);
 * ```
 */
export function counts(x: HasOffsets): Int32Array {
  const { offsets } = x;
  const n = eventsOf('counts', 'input', offsets);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = offsets[i + 1] - offsets[i];
  return out;
}

/**
 * All elements of all events, in order: a zero-copy view of the content range the offsets cover
 * (mutating it mutates the jagged column).
 *
 * @example
 * ```ts
 * const allJetPt = flatten(field(jets, 'pt'));  // one value per jet, e.g. to fill a histogram
 * ```
 */
export function flatten<T extends NumericArray>(x: Jagged<T>): T {
  const n = checkJagged('flatten', 'input', x);
  return x.content.subarray(x.offsets[0], x.offsets[n]) as T;
}

/**
 * Position of every element within its own list (0, 1, 2, ... restarting at each event), sharing `x.offsets`.
 *
 * @example
 * ```ts
 * const idx = localIndex(jets);             // [[0,1,2],[],[0]] for counts [3,0,1]
 * ```
 */
export function localIndex(x: HasOffsets): Jagged<Int32Array> {
  const { offsets } = x;
  const n = eventsOf('localIndex', 'input', offsets);
  const out = new Int32Array(offsets[n]);
  for (let e = 0; e < n; e++) {
    const lo = offsets[e];
    const hi = offsets[e + 1];
    for (let j = lo; j < hi; j++) out[j] = j - lo;
  }
  return { offsets, content: out };
}

/**
 * Repeats a per-event value over the elements of each event's list (an event weight for every jet), in the
 * dtype of `values`; shares `like.offsets`.
 *
 * @example
 * ```ts
 * const jetWeight = flatten(broadcast(genWeight, jets));  // aligned with flatten(field(jets, 'pt'))
 * ```
 */
export function broadcast<T extends NumericArray>(values: T, like: HasOffsets): Jagged<T> {
  const { offsets } = like;
  const n = eventsOf('broadcast', 'target', offsets);
  checkFlat('broadcast', 'per-event values', values, n);
  const out = new (ctorOf(values))(offsets[n]);
  broadcastLoop(values)(values, offsets, n, out);
  return { offsets, content: out };
}

const broadcastLoop = perDtype(function broadcast(
  values: ArrayLike<number>,
  offsets: Int32Array,
  n: number,
  out: NumericArray,
): void {
  for (let e = 0; e < n; e++) {
    const v = values[e];
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) out[j] = v;
  }
});

/**
 * One field of a collection as a jagged column sharing the collection's offsets (no copy); throws, naming the
 * closest field names, if it is missing.
 *
 * @example
 * ```ts
 * const goodJet = gt(field(jets, 'pt'), 30);
 * ```
 */
export function field(c: Collection, name: string): Jagged {
  return { offsets: c.offsets, content: fieldOf('field', c, name) };
}
