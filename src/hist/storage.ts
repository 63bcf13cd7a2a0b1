/**
 * Storage tags, after boost-histogram: a storage names the accumulator kept per bin and the arrays
 * (one Float64Array per field, struct-of-arrays) that hold it. The arithmetic lives in accumulators.ts;
 * the histogram meets the tag once, when it is built.
 */

import { brandClass } from '../accumulate/brand.ts';

/** Discriminant of the storage kinds (also the binary header's name for them). */
export type StorageKind = 'double' | 'int64' | 'weight' | 'mean' | 'weighted_mean';

/** Sum of weights as a float per bin. The default storage. */
export class Double {
  readonly kind = 'double' as const;
  readonly fields = ['value'] as const;
}

/**
 * Integer counts. Kept in a Float64Array, exact up to 2^53 per bin (9e15 entries), so it shares every
 * kernel with Double; weights must be integers and scale factors too.
 */
export class Int64 {
  readonly kind = 'int64' as const;
  readonly fields = ['value'] as const;
}

/** Sum of weights and sum of squared weights per bin, so variances stay known under weighted fills. */
export class Weight {
  readonly kind = 'weight' as const;
  readonly fields = ['sum_of_weights', 'sum_of_weights_squared'] as const;
}

/**
 * Profile-style mean of a `sample` per bin: count (sum of weights), running mean, and the sum of squared
 * deltas (Welford), from which the sample variance follows.
 */
export class Mean {
  readonly kind = 'mean' as const;
  readonly fields = ['count', 'value', 'sum_of_deltas_squared'] as const;
}

/** Weighted profile: sum of weights, sum of squared weights, weighted mean, weighted sum of squared deltas. */
export class WeightedMean {
  readonly kind = 'weighted_mean' as const;
  readonly fields = ['sum_of_weights', 'sum_of_weights_squared', 'value', 'sum_of_weighted_deltas_squared'] as const;
}

/** Any storage tag. */
export type Storage = Double | Int64 | Weight | Mean | WeightedMean;

/** The tag for a kind name. */
export function storageOf(kind: StorageKind): Storage {
  switch (kind) {
    case 'double':
      return new Double();
    case 'int64':
      return new Int64();
    case 'weight':
      return new Weight();
    case 'mean':
      return new Mean();
    case 'weighted_mean':
      return new WeightedMean();
  }
}

/** True for the storages that take a `sample` (profiles). */
export function isMeanKind(kind: StorageKind): kind is 'mean' | 'weighted_mean' {
  return kind === 'mean' || kind === 'weighted_mean';
}

export const STORAGE_KINDS: readonly StorageKind[] = ['double', 'int64', 'weight', 'mean', 'weighted_mean'];

// `instanceof` across copies of Ristretto (a processor bundle carries its own): see brand.ts.
brandClass(Double, 'Double');
brandClass(Int64, 'Int64');
brandClass(Weight, 'Weight');
brandClass(Mean, 'Mean');
brandClass(WeightedMean, 'WeightedMean');
