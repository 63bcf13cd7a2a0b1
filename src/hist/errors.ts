import { RistrettoError } from '../errors/index.ts';

/** Base of every histogram error. */
export class HistError extends RistrettoError {}

/** Two histograms cannot be merged: the message names the first difference (axis, binning, storage). */
export class IncompatibleHistogramsError extends HistError {}

/** The arguments of `fill` do not match the histogram's axes or storage. */
export class FillError extends HistError {}

/** An axis was referenced by a name or position the histogram does not have. */
export class AxisNotFoundError extends HistError {}

/** A combination (axis kind, storage, conversion target) that is deliberately not supported. */
export class UnsupportedHistError extends HistError {}

/** An axis or histogram definition is invalid (bad edges, duplicate categories...). */
export class InvalidAxisError extends HistError {}

/** A UHI (or binary) document that does not describe a histogram Ristretto can rebuild. */
export class HistFormatError extends HistError {}

/** Levenshtein distance, for "did you mean" suggestions in not-found messages. */
function distance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidates closest to `name`, best first (at most `limit`). */
export function closest(name: string, candidates: readonly string[], limit = 3): string[] {
  return [...candidates]
    .map((c) => ({ c, d: distance(name.toLowerCase(), c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)
    .slice(0, limit)
    .map((x) => x.c);
}
