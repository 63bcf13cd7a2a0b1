/**
 * Picking one element per event by local index (the element an argmax chose, the leading jet). The result may be
 * missing (empty list, index -1 or out of range): missing values are NaN and their `valid` byte is 0.
 */
import type { Collection, Jagged, Mask, Optional } from './types.ts';
import { checkContent, checkFlat, checkJagged, eventsOf } from './shape.ts';
import { lazyRecord } from './lazy.ts';
import { perDtype } from './specialize.ts';
import { InvalidArgumentError } from './errors.ts';

/** One optional value per event for several fields of a collection, with one shared validity mask. */
export interface OptionalRecord {
  readonly valid: Mask;
  readonly fields: Readonly<Record<string, Float64Array>>;
}

/**
 * The element at local index `index[i]` of event i's list (or the same local index for every event when `index`
 * is a number). Any index outside `[0, count)` — including -1 from argmin/argmax of an empty list — is missing.
 *
 * @example
 * ```ts
 * const iLead = argmax(jetPt);
 * const leadEta = take(jetEta, iLead);          // { values: Float64Array, valid: Uint8Array }
 * ```
 */
export function take(x: Jagged, index: Int32Array | number): Optional {
  const n = checkJagged('take', 'input', x);
  if (typeof index !== 'number') checkFlat('take', 'local index', index, n);
  const valid = validity('take', x.offsets, index);
  return { values: pickValues(x.offsets, x.content, index, valid), valid };
}

/**
 * The first element of each list; empty lists give NaN with `valid` 0.
 *
 * @example
 * ```ts
 * const leadPt = firsts(jetPt).values;          // NaN where there is no jet
 * ```
 */
export function firsts(x: Jagged): Optional {
  return take(x, 0);
}

/**
 * {@link take} for every field of a collection, sharing one validity mask; fields are picked lazily on first access.
 *
 * @example
 * ```ts
 * const lead = takeFields(jets, argmax(field(jets, 'pt')));
 * lead.fields.eta; // Float64Array, NaN where no jet
 * ```
 */
export function takeFields(c: Collection, index: Int32Array | number): OptionalRecord {
  const n = eventsOf('takeFields', 'collection', c.offsets);
  if (typeof index !== 'number') checkFlat('takeFields', 'local index', index, n);
  const valid = validity('takeFields', c.offsets, index);
  const fields = c.fields;
  return {
    valid,
    fields: lazyRecord(Object.keys(fields), (f) => {
      const values = fields[f];
      checkContent('takeFields', `field '${f}'`, c.offsets, values);
      return pickValues(c.offsets, values, index, valid);
    }),
  };
}

function validity(operation: string, offsets: Int32Array, index: Int32Array | number): Mask {
  const n = offsets.length - 1;
  const valid = new Uint8Array(n);
  if (typeof index === 'number') {
    if (!Number.isInteger(index)) {
      throw new InvalidArgumentError(`${operation}: local index ${index} is not an integer`, { operation, index });
    }
    for (let e = 0; e < n; e++) valid[e] = index >= 0 && index < offsets[e + 1] - offsets[e] ? 1 : 0;
  } else {
    for (let e = 0; e < n; e++) {
      const k = index[e];
      valid[e] = k >= 0 && k < offsets[e + 1] - offsets[e] ? 1 : 0;
    }
  }
  return valid;
}

function pickValues(
  offsets: Int32Array,
  content: ArrayLike<number>,
  index: Int32Array | number,
  valid: Mask,
): Float64Array {
  const out = new Float64Array(valid.length);
  if (typeof index === 'number') pickAtLoop(content)(offsets, content, index, valid, out);
  else pickByLoop(content)(offsets, content, index, valid, out);
  return out;
}

const pickAtLoop = perDtype(function pickAt(
  offsets: Int32Array,
  content: ArrayLike<number>,
  index: number,
  valid: Mask,
  out: Float64Array,
): void {
  for (let e = 0; e < out.length; e++) out[e] = valid[e] !== 0 ? content[offsets[e] + index] : NaN;
});

const pickByLoop = perDtype(function pickBy(
  offsets: Int32Array,
  content: ArrayLike<number>,
  index: Int32Array,
  valid: Mask,
  out: Float64Array,
): void {
  for (let e = 0; e < out.length; e++) out[e] = valid[e] !== 0 ? content[offsets[e] + index[e]] : NaN;
});
