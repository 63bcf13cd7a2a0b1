/**
 * Inverse of a small dense matrix (the Hessian of a fit: tens to a few hundred parameters) by
 * Gauss–Jordan elimination with partial pivoting. Written here rather than taken from mathjs, whose
 * import costs seconds in every worker thread and FaaS worker that only runs hypotests.
 */

/** The inverse of the n×n matrix `a` (rows); undefined when it is singular to working precision. */
export function invert(a: readonly (readonly number[])[]): number[][] | undefined {
  const n = a.length;
  // [A | I] in one row-major typed array.
  const w = 2 * n;
  const m = new Float64Array(n * w);
  let scale = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      m[i * w + j] = a[i][j];
      scale = Math.max(scale, Math.abs(a[i][j]));
    }
    m[i * w + n + i] = 1;
  }
  const tiny = scale * n * Number.EPSILON;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * w + c]) > Math.abs(m[p * w + c])) p = r;
    const pivot = m[p * w + c];
    if (!(Math.abs(pivot) > tiny)) return undefined;
    if (p !== c) {
      for (let j = 0; j < w; j++) {
        const t = m[c * w + j];
        m[c * w + j] = m[p * w + j];
        m[p * w + j] = t;
      }
    }
    const inv = 1 / pivot;
    for (let j = 0; j < w; j++) m[c * w + j] = m[c * w + j] * inv;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * w + c];
      if (f === 0) continue;
      for (let j = 0; j < w; j++) m[r * w + j] = m[r * w + j] - f * m[c * w + j];
    }
  }
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(m.subarray(i * w + n, i * w + w)));
  return out;
}
