/**
 * Selections: keep events (`filterEvents`, by a flat event mask) or objects (`selectObjects`, by a jagged mask
 * aligned with a collection, like `Jet[Jet.pt > 30]`). Offsets are recomputed; collection fields are gathered
 * lazily, on first access, so unused fields cost nothing.
 */
import type { Collection, Column, Combinations, Jagged, Mask, NumericArray } from './types.ts';
import {
  checkContent,
  checkFlat,
  checkJagged,
  checkSameOffsets,
  ctorOf,
  eventsOf,
  isCollection,
  isCombinations,
  isFlat,
  isJagged,
} from './shape.ts';
import { lazyRecord } from './lazy.ts';
import { perDtype } from './specialize.ts';
import { gatherInto } from './gather.ts';
import { InvalidArgumentError, LengthMismatchError } from './errors.ts';

/** Anything {@link filterEvents} accepts. */
export type Filterable = Column | Combinations;

/**
 * Keeps the events whose `mask` byte is non-zero, in every kind of column: a flat column, a jagged column, a
 * collection, index combinations (indices keep pointing into the unfiltered content), or a whole chunk (a record
 * of columns, filtered lazily column by column).
 *
 * @example
 * ```ts
 * const twoMuons = ge(counts(events.Muon), 2);
 * const sel = filterEvents({ Muon: events.Muon, MET_pt: events.MET_pt }, twoMuons);
 * sel.Muon.fields.pt; // computed on first access
 * ```
 */
export function filterEvents<T extends NumericArray>(x: T, mask: Mask): T;
export function filterEvents<T extends NumericArray>(x: Jagged<T>, mask: Mask): Jagged<T>;
export function filterEvents<C extends Collection>(x: C, mask: Mask): Collection;
export function filterEvents(x: Combinations, mask: Mask): Combinations;
export function filterEvents<R extends Readonly<Record<string, Filterable>>>(chunk: R, mask: Mask): R;
export function filterEvents(x: Filterable | Readonly<Record<string, Filterable>>, mask: Mask): unknown {
  checkMask('filterEvents', mask);
  if (isFlat(x) || isJagged(x) || isCollection(x) || isCombinations(x)) {
    return filterColumn(x, keptEvents(mask), mask.length);
  }
  const keys = Object.keys(x);
  let kept: Int32Array | undefined;
  // Each column's length is checked against the mask when the column is first read.
  return lazyRecord(keys, (key) => filterColumn(x[key], (kept ??= keptEvents(mask)), mask.length, key));
}

function checkMask(operation: string, mask: Mask): void {
  if (!isFlat(mask)) {
    throw new InvalidArgumentError(
      `${operation}: the event mask must be a flat Uint8Array (one byte per event)`,
      { operation },
      'To keep objects within events (Jet[Jet.pt > 30]) use selectObjects with a jagged mask; to keep events with any such object, reduce it with any(mask).',
    );
  }
}

function keptEvents(mask: Mask): Int32Array {
  const n = mask.length;
  const count = countNonZero(mask)(mask, 0, n);
  const kept = new Int32Array(count);
  indicesOfNonZero(mask)(mask, 0, n, kept);
  return kept;
}

/** Number of non-zero elements of `m[lo..hi)`; branch-free, so a random mask costs no mispredictions. */
const countNonZero = perDtype(function countNonZero(m: ArrayLike<number>, lo: number, hi: number): number {
  let total = 0;
  for (let j = lo; j < hi; j++) total += m[j] !== 0 ? 1 : 0;
  return total;
});

/** Writes the positions `j` in `[lo, hi)` where `m[j]` is non-zero into `out`, in order. */
const indicesOfNonZero = perDtype(function indicesOfNonZero(
  m: ArrayLike<number>,
  lo: number,
  hi: number,
  out: Int32Array,
): void {
  let pos = 0;
  for (let j = lo; j < hi; j++) if (m[j] !== 0) out[pos++] = j;
});

function filterColumn(x: Filterable, kept: Int32Array, events: number, name = 'column'): Filterable {
  const op = 'filterEvents';
  if (isFlat(x)) {
    checkFlat(op, `${name} (events)`, x, events);
    const out = new (ctorOf(x))(kept.length);
    gatherInto(x, kept, out, op);
    return out;
  }
  if (isJagged(x) || isCollection(x) || isCombinations(x)) {
    const n = eventsOf(op, name, x.offsets);
    if (n !== events) throw new LengthMismatchError(op, `${name} (events)`, events, n);
  }
  if (isJagged(x)) {
    checkJagged(op, name, x);
    const offsets = keptOffsets(op, name, x.offsets, kept);
    return { offsets, content: copyRanges(x.content, x.offsets, kept, offsets) };
  }
  if (isCollection(x)) {
    const offsets = keptOffsets(op, name, x.offsets, kept);
    const fields = x.fields;
    return {
      offsets,
      fields: lazyRecord(Object.keys(fields), (f) => {
        const values = fields[f];
        checkContent(op, `${name}.${f}`, x.offsets, values);
        return copyRanges(values, x.offsets, kept, offsets);
      }),
    };
  }
  if (isCombinations(x)) {
    const offsets = keptOffsets(op, name, x.offsets, kept);
    const i0 = copyRanges(x.i0, x.offsets, kept, offsets);
    const i1 = copyRanges(x.i1, x.offsets, kept, offsets);
    return x.i2 === undefined
      ? { offsets, i0, i1 }
      : { offsets, i0, i1, i2: copyRanges(x.i2, x.offsets, kept, offsets) };
  }
  throw new InvalidArgumentError(
    `${op}: '${name}' is not a column (typed array, jagged, collection or combinations)`,
    { operation: op, column: name },
    'Pass only columns in the chunk record, or filter each column yourself.',
  );
}

function keptOffsets(op: string, name: string, offsets: Int32Array, kept: Int32Array): Int32Array {
  eventsOf(op, name, offsets);
  const out = new Int32Array(kept.length + 1);
  let total = 0;
  for (let k = 0; k < kept.length; k++) {
    const e = kept[k];
    total += offsets[e + 1] - offsets[e];
    out[k + 1] = total;
  }
  return out;
}

function copyRanges<T extends NumericArray>(
  content: T,
  offsets: Int32Array,
  kept: Int32Array,
  newOffsets: Int32Array,
): T {
  const out = new (ctorOf(content))(newOffsets[kept.length]);
  copyRangesLoop(content, out)(content, offsets, kept, out);
  return out;
}

const copyRangesLoop = perDtype(function copyRanges(
  content: ArrayLike<number>,
  offsets: Int32Array,
  kept: Int32Array,
  out: NumericArray,
): void {
  let pos = 0;
  for (let k = 0; k < kept.length; k++) {
    const e = kept[k];
    const hi = offsets[e + 1];
    for (let j = offsets[e]; j < hi; j++) out[pos++] = content[j];
  }
});

/**
 * Keeps the objects whose jagged `mask` byte is non-zero (`Jet[Jet.pt > 30]`); every event is kept, possibly
 * with an empty list. Works on a jagged column, a collection (fields gathered lazily) or index combinations.
 * The mask must have the same list lengths as `x`.
 *
 * @example
 * ```ts
 * const goodJets = selectObjects(jets, and(gt(jets.fields.pt, 30), lt(abs(jets.fields.eta), 2.4)));
 * ```
 */
export function selectObjects<T extends NumericArray>(x: Jagged<T>, mask: Jagged<Mask>): Jagged<T>;
export function selectObjects(x: Collection, mask: Jagged<Mask>): Collection;
export function selectObjects(x: Combinations, mask: Jagged<Mask>): Combinations;
export function selectObjects(
  x: Jagged | Collection | Combinations,
  mask: Jagged<Mask>,
): Jagged | Collection | Combinations {
  const op = 'selectObjects';
  if (!isJagged(mask)) {
    throw new InvalidArgumentError(
      `${op}: the mask must be jagged (one byte per object)`,
      { operation: op },
      'To keep whole events use filterEvents with a flat event mask.',
    );
  }
  const n = checkJagged(op, 'mask', mask);
  const xOffsets = x.offsets;
  checkSameOffsets(op, xOffsets, mask.offsets);
  const m = mask.content;
  const lo = xOffsets[0];
  const hi = xOffsets[n];
  const offsets = new Int32Array(n + 1);
  const total = selectedOffsets(m)(xOffsets, m, n, offsets);
  if (isJagged(x)) {
    checkJagged(op, 'column', x);
    const c = x.content;
    const out = new (ctorOf(c))(total);
    compress(c, m, out)(c, m, lo, hi, out);
    return { offsets, content: out };
  }
  const index = new Int32Array(total);
  indicesOfNonZero(m)(m, lo, hi, index);
  if (isCollection(x)) {
    const fields = x.fields;
    return {
      offsets,
      fields: lazyRecord(Object.keys(fields), (f) => {
        const values = fields[f];
        checkContent(op, `field '${f}'`, x.offsets, values);
        const out = new (ctorOf(values))(total);
        gatherInto(values, index, out, op);
        return out;
      }),
    };
  }
  if (isCombinations(x)) {
    const pick = (a: Int32Array): Int32Array => {
      const out = new Int32Array(total);
      gatherInto(a, index, out, op);
      return out;
    };
    return x.i2 === undefined
      ? { offsets, i0: pick(x.i0), i1: pick(x.i1) }
      : { offsets, i0: pick(x.i0), i1: pick(x.i1), i2: pick(x.i2) };
  }
  throw new InvalidArgumentError(`${op}: first argument must be a jagged column, a collection or combinations`, {
    operation: op,
  });
}

/** Offsets of the selected objects (`out[e + 1]` = kept so far); returns the total kept. */
const selectedOffsets = perDtype(function selectedOffsets(
  offsets: Int32Array,
  m: ArrayLike<number>,
  n: number,
  out: Int32Array,
): number {
  let total = 0;
  let j = offsets[0];
  for (let e = 0; e < n; e++) {
    const hi = offsets[e + 1];
    for (; j < hi; j++) total += m[j] !== 0 ? 1 : 0;
    out[e + 1] = total;
  }
  return total;
});

/** `out` = the elements of `c[lo..hi)` whose mask byte is non-zero, in order. */
const compress = perDtype(function compress(
  c: ArrayLike<number>,
  m: ArrayLike<number>,
  lo: number,
  hi: number,
  out: NumericArray,
): void {
  let pos = 0;
  for (let j = lo; j < hi; j++) if (m[j] !== 0) out[pos++] = c[j];
});
