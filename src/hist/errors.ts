import { RistrettoError } from '../errors/index.ts';
import { closestNames } from '../errors/suggest.ts';

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

/** The candidates closest to `name`, best first (at most `limit`); the project-wide ranking. */
export function closest(name: string, candidates: readonly string[], limit = 3): string[] {
  return closestNames(name, candidates, limit);
}
