/**
 * Per-storage arithmetic on the struct-of-arrays bin contents: merging one bin into another, scaling,
 * and deriving values / variances / counts. Each kind gets its own small function, chosen once per
 * operation, so the bin loops stay monomorphic.
 */
import type { StorageKind } from './storage.ts';

/** Bin contents: one Float64Array per storage field, all of the histogram's full (flow-included) size. */
export type Arrays = Float64Array[];

/** Adds bin `si` of `src` into bin `di` of `dst` with the storage's merge rule. */
export type BinMerger = (dst: Arrays, di: number, src: Arrays, si: number) => void;

function sumMerger(dst: Arrays, di: number, src: Arrays, si: number): void {
  for (let f = 0; f < dst.length; f++) dst[f][di] += src[f][si];
}

// Pooled mean and Welford's merge (Chan et al.), the rule of boost::histogram::accumulators::mean.
// The two pairs of additions are grouped so that the result does not depend on the merge order.
function meanMerger(dst: Arrays, di: number, src: Arrays, si: number): void {
  const [dc, dv, dd] = dst as [Float64Array, Float64Array, Float64Array];
  const [sc, sv, sd] = src as [Float64Array, Float64Array, Float64Array];
  const n2 = sc[si];
  if (n2 === 0) return;
  const n1 = dc[di];
  if (n1 === 0) {
    dc[di] = n2;
    dv[di] = sv[si];
    dd[di] = sd[si];
    return;
  }
  const mu1 = dv[di];
  const mu2 = sv[si];
  const n = n1 + n2;
  const mu = (n1 * mu1 + n2 * mu2) / n;
  dc[di] = n;
  dv[di] = mu;
  dd[di] = dd[di] + sd[si] + (n1 * (mu - mu1) * (mu - mu1) + n2 * (mu - mu2) * (mu - mu2));
}

function weightedMeanMerger(dst: Arrays, di: number, src: Arrays, si: number): void {
  const [dw, dw2, dv, dd] = dst as [Float64Array, Float64Array, Float64Array, Float64Array];
  const [sw, sw2, sv, sd] = src as [Float64Array, Float64Array, Float64Array, Float64Array];
  const n2 = sw[si];
  if (n2 === 0) return;
  const n1 = dw[di];
  if (n1 === 0) {
    dw[di] = n2;
    dw2[di] = sw2[si];
    dv[di] = sv[si];
    dd[di] = sd[si];
    return;
  }
  const mu1 = dv[di];
  const mu2 = sv[si];
  const n = n1 + n2;
  const mu = (n1 * mu1 + n2 * mu2) / n;
  dw[di] = n;
  dw2[di] = dw2[di] + sw2[si];
  dv[di] = mu;
  dd[di] = dd[di] + sd[si] + (n1 * (mu - mu1) * (mu - mu1) + n2 * (mu - mu2) * (mu - mu2));
}

/** The merge rule of a storage kind. */
export function binMerger(kind: StorageKind): BinMerger {
  if (kind === 'mean') return meanMerger;
  if (kind === 'weighted_mean') return weightedMeanMerger;
  return sumMerger;
}

/** dst += src over whole, identically laid-out arrays. */
export function mergeArrays(kind: StorageKind, dst: Arrays, src: Arrays): void {
  if (kind === 'mean' || kind === 'weighted_mean') {
    const m = binMerger(kind);
    const n = dst[0].length;
    for (let i = 0; i < n; i++) m(dst, i, src, i);
    return;
  }
  for (let f = 0; f < dst.length; f++) {
    const d = dst[f];
    const s = src[f];
    for (let i = 0; i < d.length; i++) d[i] += s[i];
  }
}

function mulInPlace(a: Float64Array, f: number): void {
  for (let i = 0; i < a.length; i++) a[i] *= f;
}

/** Multiply every bin by `f`: weights scale by f, squared weights and squared deltas by f². */
export function scaleArrays(kind: StorageKind, arrays: Arrays, f: number): void {
  switch (kind) {
    case 'double':
    case 'int64':
      mulInPlace(arrays[0], f);
      return;
    case 'weight':
      mulInPlace(arrays[0], f);
      mulInPlace(arrays[1], f * f);
      return;
    case 'mean':
      mulInPlace(arrays[1], f);
      mulInPlace(arrays[2], f * f);
      return;
    case 'weighted_mean':
      mulInPlace(arrays[2], f);
      mulInPlace(arrays[3], f * f);
      return;
  }
}

/** The plotted value per bin: sum of weights, or the mean for profiles. */
export function valuesOf(kind: StorageKind, arrays: Arrays): Float64Array {
  if (kind === 'mean' || kind === 'weighted_mean') return arrays[kind === 'mean' ? 1 : 2].slice();
  return arrays[0].slice();
}

/**
 * Variance per bin of the plotted value (boost-histogram's `variances()`): the counts themselves for
 * unweighted simple storages (Poisson), the sum of squared weights for Weight, and the variance of the
 * mean (sample variance / count; NaN where undefined) for profiles.
 */
export function variancesOf(kind: StorageKind, arrays: Arrays): Float64Array {
  const n = arrays[0].length;
  switch (kind) {
    case 'double':
    case 'int64':
      return arrays[0].slice();
    case 'weight':
      return arrays[1].slice();
    case 'mean': {
      const [c, , d] = arrays as [Float64Array, Float64Array, Float64Array];
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = c[i] > 1 ? d[i] / (c[i] - 1) / c[i] : NaN;
      return out;
    }
    case 'weighted_mean': {
      const [w, w2, , d] = arrays as [Float64Array, Float64Array, Float64Array, Float64Array];
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const sw = w[i];
        out[i] = sw * sw > w2[i] ? d[i] / (sw - w2[i] / sw) / sw : NaN;
      }
      return out;
    }
  }
}

/**
 * Sample variance per bin for profiles, as boost-histogram's `view().variance` (and the UHI `variances`
 * field): Σ(x-mean)² / (count - 1), or the weighted analogue. Not guarded: empty bins give NaN or -0.
 */
export function sampleVariancesOf(kind: 'mean' | 'weighted_mean', arrays: Arrays): Float64Array {
  const n = arrays[0].length;
  const out = new Float64Array(n);
  if (kind === 'mean') {
    const [c, , d] = arrays as [Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < n; i++) out[i] = d[i] / (c[i] - 1);
  } else {
    const [w, w2, , d] = arrays as [Float64Array, Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < n; i++) out[i] = d[i] / (w[i] - w2[i] / w[i]);
  }
  return out;
}

/** Entries per bin: the counts, the effective counts (Σw)²/Σw² for Weight and WeightedMean, or the profile count. */
export function countsOf(kind: StorageKind, arrays: Arrays): Float64Array {
  const n = arrays[0].length;
  if (kind === 'double' || kind === 'int64' || kind === 'mean') return arrays[0].slice();
  const w = arrays[0];
  const w2 = arrays[1];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = w2[i] > 0 ? (w[i] * w[i]) / w2[i] : 0;
  return out;
}
