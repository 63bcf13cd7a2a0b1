/**
 * Per-list reductions: one value per event from a jagged column. Dtypes are fixed per kernel: sums, minima and
 * maxima are Float64Array; counts and arg-indices Int32Array; any/all Uint8Array.
 *
 * NaN policy: `sum` propagates NaN; `min`, `max`, `argmin`, `argmax` skip NaN elements (a list of only NaN
 * behaves like an empty list). Ties pick the first element.
 *
 * @example
 * ```ts
 * const ht = sum(field(selectObjects(jets, gt(field(jets, 'pt'), 30)), 'pt'));
 * const iLead = argmax(field(jets, 'pt'));      // local index, -1 where there is no jet
 * ```
 */
import type { Jagged, Mask } from './types.ts';
import { checkJagged } from './shape.ts';
import { perDtype } from './specialize.ts';

/** Sum of each list (0 for an empty list). */
export function sum(x: Jagged): Float64Array {
  const n = checkJagged('sum', 'input', x);
  const { offsets, content } = x;
  const out = new Float64Array(n);
  sumLoop(content)(offsets, content, out, n);
  return out;
}

const sumLoop = perDtype(function sum(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Float64Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    let s = 0;
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) s += content[j];
    out[e] = s;
  }
});

/** Number of non-zero elements of each list (for a mask: how many objects pass). */
export function count(x: Jagged): Int32Array {
  const n = checkJagged('count', 'input', x);
  const { offsets, content } = x;
  const out = new Int32Array(n);
  countLoop(content)(offsets, content, out, n);
  return out;
}

const countLoop = perDtype(function count(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Int32Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    let c = 0;
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) if (content[j] !== 0) c++;
    out[e] = c;
  }
});

/** 1 where any element of the list is non-zero (0 for an empty list). */
export function any(x: Jagged): Mask {
  const n = checkJagged('any', 'input', x);
  const { offsets, content } = x;
  const out = new Uint8Array(n);
  anyLoop(content)(offsets, content, out, n);
  return out;
}

const anyLoop = perDtype(function any(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Uint8Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) {
      if (content[j] !== 0) {
        out[e] = 1;
        break;
      }
    }
  }
});

/** 1 where every element of the list is non-zero (1 for an empty list). */
export function all(x: Jagged): Mask {
  const n = checkJagged('all', 'input', x);
  const { offsets, content } = x;
  const out = new Uint8Array(n).fill(1);
  allLoop(content)(offsets, content, out, n);
  return out;
}

const allLoop = perDtype(function all(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Uint8Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) {
      if (content[j] === 0) {
        out[e] = 0;
        break;
      }
    }
  }
});

/** Local index of the smallest non-NaN element of each list; -1 for an empty (or all-NaN) list. */
export function argmin(x: Jagged): Int32Array {
  const n = checkJagged('argmin', 'input', x);
  const { offsets, content } = x;
  const out = new Int32Array(n);
  argminLoop(content)(offsets, content, out, n);
  return out;
}

const argminLoop = perDtype(function argmin(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Int32Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    const lo = offsets[e];
    let best = -1;
    let bv = 0;
    for (let j = lo, hi = offsets[e + 1]; j < hi; j++) {
      const v = content[j];
      if (v < bv || (best < 0 && v === v)) {
        best = j;
        bv = v;
      }
    }
    out[e] = best < 0 ? -1 : best - lo;
  }
});

/** Local index of the largest non-NaN element of each list; -1 for an empty (or all-NaN) list. */
export function argmax(x: Jagged): Int32Array {
  const n = checkJagged('argmax', 'input', x);
  const { offsets, content } = x;
  const out = new Int32Array(n);
  argmaxLoop(content)(offsets, content, out, n);
  return out;
}

const argmaxLoop = perDtype(function argmax(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Int32Array,
  n: number,
): void {
  for (let e = 0; e < n; e++) {
    const lo = offsets[e];
    let best = -1;
    let bv = 0;
    for (let j = lo, hi = offsets[e + 1]; j < hi; j++) {
      const v = content[j];
      if (v > bv || (best < 0 && v === v)) {
        best = j;
        bv = v;
      }
    }
    out[e] = best < 0 ? -1 : best - lo;
  }
});

/**
 * Smallest non-NaN element of each list; `empty` (default NaN) for an empty or all-NaN list. `Hist.fill`
 * puts NaN into the overflow bin (as boost-histogram does; awkward gives None), so mask empty events when
 * filling (`filterEvents(min(x), gt(counts(x), 0))`) or pass a default as `empty`.
 *
 * @example
 * ```ts
 * const lead = max(events.Jet.pt);                       // NaN where an event has no jet
 * h.fill(filterEvents(lead, gt(counts(events.Jet.pt), 0)));
 * ```
 */
export function min(x: Jagged, empty = NaN): Float64Array {
  return extremum('min', x, empty, -1);
}

/** Largest non-NaN element of each list; `empty` (default NaN) for an empty or all-NaN list (see {@link min}). */
export function max(x: Jagged, empty = NaN): Float64Array {
  return extremum('max', x, empty, 1);
}

function extremum(operation: string, x: Jagged, empty: number, sign: 1 | -1): Float64Array {
  const n = checkJagged(operation, 'input', x);
  const { offsets, content } = x;
  const out = new Float64Array(n);
  extremumLoop(content)(offsets, content, out, n, empty, sign);
  return out;
}

const extremumLoop = perDtype(function extremum(
  offsets: Int32Array,
  content: ArrayLike<number>,
  out: Float64Array,
  n: number,
  empty: number,
  sign: number,
): void {
  for (let e = 0; e < n; e++) {
    let found = false;
    let bv = 0;
    for (let j = offsets[e], hi = offsets[e + 1]; j < hi; j++) {
      // Comparing sign-scaled values lets one loop serve min and max; `sign` is constant for the whole call.
      const v = content[j] * sign;
      if (v > bv || (!found && v === v)) {
        found = true;
        bv = v;
      }
    }
    out[e] = found ? bv * sign : empty;
  }
});
