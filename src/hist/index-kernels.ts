/**
 * Per-axis bin-index kernels for one chunk of a fill. Each kernel reads a Float64Array chunk (the fill
 * converts every input into one, so these loops only ever see one array type and stay monomorphic) and
 * folds the axis's local bin into the running global index: `idx[i] += local * stride`, or `idx[i] = -1`
 * when the entry falls where the axis has no bin (out of range without a flow bin).
 *
 * Local indices count the underflow bin first when the axis has one: [underflow] bins... [overflow].
 * NaN goes to overflow, as in boost-histogram. No kernel ever indexes with NaN: the comparisons below
 * are ordered so that NaN fails `z < n` and takes the overflow branch.
 */

/** Fractional distance from a bin edge below which the fast multiply may disagree with the exact formula. */
const EDGE = 1e-6;

/**
 * Bin position z of `v` on a Regular axis, exactly as boost-histogram computes it,
 * `(v - lo) / width * n`, but at the cost of one multiply: `(v - lo) * scale` differs from the exact
 * formula by a few ulps, which only matters when z is within rounding of an integer (a value on or
 * next to a bin edge, e.g. a cut value like 40.0). Those rare entries are recomputed exactly, so
 * binning agrees with boost-histogram and with the axis edges bit for bit. `width` 0 means the
 * multiply is already exact (Integer axes, scale 1). NaN passes through untouched.
 */
export function edgeSafe(v: number, lo: number, scale: number, width: number, n: number): number {
  const z = (v - lo) * scale;
  const r = z - Math.floor(z);
  if ((r < EDGE || r > 1 - EDGE) && width > 0) return ((v - lo) / width) * n;
  return z;
}

/**
 * Regular (and Integer) binning: local = floor((v - lo) * scale) + offset.
 * `under`/`over` are the local flow indices, or -1 when the axis has no such bin.
 */
export function regularIndex(
  src: Float64Array,
  len: number,
  idx: Int32Array,
  stride: number,
  lo: number,
  scale: number,
  width: number,
  n: number,
  offset: number,
  under: number,
  over: number,
): void {
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    const z = edgeSafe(src[i], lo, scale, width, n);
    let b: number;
    if (z < n) b = z >= 0 ? (z | 0) + offset : under;
    else b = over;
    idx[i] = b < 0 ? -1 : cur + b * stride;
  }
}

/** Variable binning by binary search over `edges` (length n + 1, increasing). */
export function variableIndex(
  src: Float64Array,
  len: number,
  idx: Int32Array,
  stride: number,
  edges: Float64Array,
  offset: number,
  under: number,
  over: number,
): void {
  const n = edges.length - 1;
  const first = edges[0];
  const last = edges[n];
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    const v = src[i];
    let b: number;
    if (v < last) {
      if (v >= first) {
        let lo = 0;
        let hi = n;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (v >= edges[mid]) lo = mid;
          else hi = mid;
        }
        b = lo + offset;
      } else b = under;
    } else b = over; // also NaN
    idx[i] = b < 0 ? -1 : cur + b * stride;
  }
}

/** Category lookup for numeric categories; values that are not categories go to `over` (or are dropped). */
export function intCategoryIndex(
  src: Float64Array,
  len: number,
  idx: Int32Array,
  stride: number,
  lookup: ReadonlyMap<number, number>,
  over: number,
): void {
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    const b = lookup.get(src[i]);
    const local = b === undefined ? over : b;
    idx[i] = local < 0 ? -1 : cur + local * stride;
  }
}

/** Category lookup for string categories; a scalar string broadcasts. */
export function strCategoryIndex(
  values: readonly string[] | string,
  start: number,
  len: number,
  idx: Int32Array,
  stride: number,
  lookup: ReadonlyMap<string, number>,
  over: number,
): void {
  if (typeof values === 'string') {
    const b = lookup.get(values);
    const local = b === undefined ? over : b;
    for (let i = 0; i < len; i++) {
      const cur = idx[i];
      if (cur < 0) continue;
      idx[i] = local < 0 ? -1 : cur + local * stride;
    }
    return;
  }
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    const b = lookup.get(values[start + i]);
    const local = b === undefined ? over : b;
    idx[i] = local < 0 ? -1 : cur + local * stride;
  }
}

/** Boolean binning: 0 → bin 0, anything else (NaN included, as C++'s bool conversion) → bin 1. */
export function booleanIndex(src: Float64Array, len: number, idx: Int32Array, stride: number): void {
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    idx[i] = src[i] !== 0 ? cur + stride : cur;
  }
}

/**
 * Log-transformed Regular binning. The bin from log-space is corrected by one step against the axis's
 * edges, so that a value lands in bin i exactly when edges[i] <= v < edges[i+1] (decade values such as
 * 10 or 100 sit within a rounding step of an edge). log of a negative value is NaN: overflow.
 */
export function regularLogIndex(
  src: Float64Array,
  len: number,
  idx: Int32Array,
  stride: number,
  edges: Float64Array,
  tlo: number,
  scale: number,
  offset: number,
  under: number,
  over: number,
): void {
  const n = edges.length - 1;
  for (let i = 0; i < len; i++) {
    const cur = idx[i];
    if (cur < 0) continue;
    const v = src[i];
    const z = (Math.log(v) - tlo) * scale;
    let b = z < n ? (z >= 0 ? z | 0 : -1) : n;
    if (z === z) {
      if (b >= 0 && v < edges[b]) b--;
      else if (b < n && v >= edges[b + 1]) b++;
    }
    const local = b < 0 ? under : b >= n ? over : b + offset;
    idx[i] = local < 0 ? -1 : cur + local * stride;
  }
}
