/**
 * The bin of `x` among increasing `edges` (bins [edges[b], edges[b + 1])), clamped: below the first edge is
 * bin 0, at or above the last edge the last bin (coffea's dense_lookup does the same); −1 for NaN. Called from
 * generated loops, where it is inlined.
 */
export function binIndex(edges: Float64Array, x: number): number {
  if (x !== x) return -1;
  const last = edges.length - 2;
  if (last <= 0 || x < edges[1]) return 0;
  if (x >= edges[last]) return last;
  // edges[lo] ≤ x < edges[hi]
  let lo = 1;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x >= edges[mid]) lo = mid;
    else hi = mid;
  }
  return lo;
}
