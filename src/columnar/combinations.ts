/**
 * Candidate building as index lists: pairs and triples within one collection, pairs across two. Results hold
 * global indices into the content of the input collection(s), so no field is copied until a kernel gathers it
 * (`gather`, `combinationField`, or the four-vector kernels in `vector.ts`).
 */
import type { Collection, Combinations, Jagged, NumericArray } from './types.ts';
import type { HasOffsets } from './structure.ts';
import { checkContent, eventsOf, fieldOf } from './shape.ts';
import { gather } from './gather.ts';
import { perDtype } from './specialize.ts';
import { InvalidArgumentError, LengthMismatchError } from './errors.ts';

/** Triples: combinations with a third index list. */
export interface Triples extends Combinations {
  readonly i2: Int32Array;
}

/**
 * All unordered pairs (n = 2) or triples (n = 3) of distinct objects within each event, in lexicographic order of
 * local index (i < j < k), as global indices into the collection's content.
 *
 * @example
 * ```ts
 * const pairs = combinations(muons, 2);
 * const mass = sumMass(pairs, muons);           // Jagged<Float64Array> aligned with pairs.offsets
 * ```
 */
export function combinations(x: HasOffsets, n: 2): Combinations;
export function combinations(x: HasOffsets, n: 3): Triples;
export function combinations(x: HasOffsets, n: 2 | 3): Combinations | Triples {
  const op = 'combinations';
  const events = eventsOf(op, 'input', x.offsets);
  const src = x.offsets;
  const offsets = new Int32Array(events + 1);
  let total = 0;
  if (n === 2) {
    for (let e = 0; e < events; e++) {
      const c = src[e + 1] - src[e];
      total += (c * (c - 1)) / 2;
      offsets[e + 1] = total;
    }
    checkTotal(op, total);
    const i0 = new Int32Array(total);
    const i1 = new Int32Array(total);
    let k = 0;
    for (let e = 0; e < events; e++) {
      const hi = src[e + 1];
      for (let a = src[e]; a < hi; a++) {
        for (let b = a + 1; b < hi; b++) {
          i0[k] = a;
          i1[k] = b;
          k++;
        }
      }
    }
    return { offsets, i0, i1 };
  }
  if (n === 3) {
    for (let e = 0; e < events; e++) {
      const c = src[e + 1] - src[e];
      total += (c * (c - 1) * (c - 2)) / 6;
      offsets[e + 1] = total;
    }
    checkTotal(op, total);
    const i0 = new Int32Array(total);
    const i1 = new Int32Array(total);
    const i2 = new Int32Array(total);
    let k = 0;
    for (let e = 0; e < events; e++) {
      const hi = src[e + 1];
      for (let a = src[e]; a < hi; a++) {
        for (let b = a + 1; b < hi; b++) {
          for (let c = b + 1; c < hi; c++) {
            i0[k] = a;
            i1[k] = b;
            i2[k] = c;
            k++;
          }
        }
      }
    }
    return { offsets, i0, i1, i2 };
  }
  throw new InvalidArgumentError(
    `${op}: n must be 2 or 3, got ${String(n)}`,
    { operation: op, n },
    'Build larger candidates from pairs or triples, or combine index lists yourself.',
  );
}

/**
 * All pairs (one object of `a`, one of `b`) within each event, `a`-major: `i0` indexes `a`'s content, `i1` `b`'s.
 *
 * @example
 * ```ts
 * const jl = cartesian(jets, leptons);
 * const dr = pairDeltaR(jl, jets, leptons);
 * ```
 */
export function cartesian(a: HasOffsets, b: HasOffsets): Combinations {
  const op = 'cartesian';
  const events = eventsOf(op, 'first input', a.offsets);
  const nb = eventsOf(op, 'second input', b.offsets);
  if (nb !== events) throw new LengthMismatchError(op, 'second input (events)', events, nb);
  const ao = a.offsets;
  const bo = b.offsets;
  const offsets = new Int32Array(events + 1);
  let total = 0;
  for (let e = 0; e < events; e++) {
    total += (ao[e + 1] - ao[e]) * (bo[e + 1] - bo[e]);
    offsets[e + 1] = total;
  }
  checkTotal(op, total);
  const i0 = new Int32Array(total);
  const i1 = new Int32Array(total);
  let k = 0;
  for (let e = 0; e < events; e++) {
    const blo = bo[e];
    const bhi = bo[e + 1];
    for (let x = ao[e], ahi = ao[e + 1]; x < ahi; x++) {
      for (let y = blo; y < bhi; y++) {
        i0[k] = x;
        i1[k] = y;
        k++;
      }
    }
  }
  return { offsets, i0, i1 };
}

/**
 * Pairs of objects with opposite charge (`q_i · q_j < 0`) within each event: the same result as
 * `selectObjects(combinations(c, 2), <opposite-charge mask>)`, fused into one pass without the intermediate
 * arrays. Order as in {@link combinations}.
 *
 * @example
 * ```ts
 * const os = oppositeChargePairs(muons);        // uses muons.fields.charge
 * const mass = sumMass(os, muons);
 * ```
 */
export function oppositeChargePairs(c: Collection, chargeField = 'charge'): Combinations {
  const op = 'oppositeChargePairs';
  const events = eventsOf(op, 'collection', c.offsets);
  const q = fieldOf(op, c, chargeField);
  const src = c.offsets;
  const offsets = new Int32Array(events + 1);
  const total = countOppositePairs(q)(src, q, events, offsets);
  checkTotal(op, total);
  const i0 = new Int32Array(total);
  const i1 = new Int32Array(total);
  fillOppositePairs(q)(src, q, events, i0, i1);
  return { offsets, i0, i1 };
}

/** Offsets of the opposite-charge pairs (`out[e + 1]`); returns their total. One copy per charge dtype. */
const countOppositePairs = perDtype(function countOppositePairs(
  src: Int32Array,
  q: ArrayLike<number>,
  events: number,
  out: Int32Array,
): number {
  let total = 0;
  for (let e = 0; e < events; e++) {
    // Pairs = positives × negatives, so counting needs no pair loop.
    let pos = 0;
    let neg = 0;
    for (let j = src[e], hi = src[e + 1]; j < hi; j++) {
      const v = q[j];
      if (v > 0) pos++;
      else if (v < 0) neg++;
    }
    total += pos * neg;
    out[e + 1] = total;
  }
  return total;
});

const fillOppositePairs = perDtype(function fillOppositePairs(
  src: Int32Array,
  q: ArrayLike<number>,
  events: number,
  i0: Int32Array,
  i1: Int32Array,
): void {
  let k = 0;
  for (let e = 0; e < events; e++) {
    const hi = src[e + 1];
    for (let a = src[e]; a < hi; a++) {
      const qa = q[a];
      for (let b = a + 1; b < hi; b++) {
        if (qa * q[b] < 0) {
          i0[k] = a;
          i1[k] = b;
          k++;
        }
      }
    }
  }
});

/**
 * One field of one slot of each candidate, as a jagged column aligned with the combinations
 * (`slot` 0 reads `content[i0]`, 1 reads `content[i1]`, 2 reads `content[i2]`), in the dtype of `content`.
 *
 * @example
 * ```ts
 * const q0 = combinationField(pairs, 0, muons.fields.charge);
 * const q1 = combinationField(pairs, 1, muons.fields.charge);
 * const os = selectObjects(pairs, ne(q0, q1));
 * ```
 */
export function combinationField<T extends NumericArray>(c: Combinations, slot: 0 | 1 | 2, content: T): Jagged<T> {
  const idx = slot === 0 ? c.i0 : slot === 1 ? c.i1 : c.i2;
  if (idx === undefined) {
    throw new InvalidArgumentError(`combinationField: slot ${slot} does not exist in pairs`, {
      operation: 'combinationField',
      slot,
    });
  }
  checkContent('combinationField', 'index list', c.offsets, idx);
  return { offsets: c.offsets, content: gather(content, idx) };
}

function checkTotal(operation: string, total: number): void {
  if (total > 0x7fffffff) {
    throw new InvalidArgumentError(
      `${operation}: ${total} candidates exceed Int32 offsets`,
      { operation, total },
      'Process smaller chunks, or preselect objects before building combinations.',
    );
  }
}
