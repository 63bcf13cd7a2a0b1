/**
 * Bounded quasi-Newton minimization: projected L-BFGS with box constraints.
 *
 * Each iteration fixes the variables sitting on a bound with the gradient pushing outwards, takes an
 * L-BFGS direction in the other variables and backtracks along the projected path (Armijo). Variables
 * are optionally rescaled (x = scale·z) so that the curvature is of order one in every direction.
 * Convergence: the projected gradient (in scaled variables) is below `gtol` in every component.
 */

export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface MinimizeOptions {
  lower: Float64Array;
  upper: Float64Array;
  /** Typical size of each variable (default 1). */
  scale?: Float64Array;
  /** Projected-gradient tolerance (scaled variables). Default 1e-8. */
  gtol?: number;
  maxIter?: number;
  /** Number of stored correction pairs. Default 12. */
  memory?: number;
}

export interface MinimizeResult {
  x: Float64Array;
  fun: number;
  grad: Float64Array;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Largest projected-gradient component at the end (scaled variables). */
  pgNorm: number;
  message: string;
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Minimizes `f` over the box [lower, upper] from `x0`.
 *
 * @example
 * ```ts
 * import { minimizeBounded } from 'ristretto/fit';
 * const r = minimizeBounded((x, g) => { g[0] = 2 * (x[0] - 3); return (x[0] - 3) ** 2; }, Float64Array.of(0), {
 *   lower: Float64Array.of(-1), upper: Float64Array.of(2),
 * });
 * r.x[0]; // 2 (on the bound)
 * ```
 */
export function minimizeBounded(f: Objective, x0: Float64Array, opts: MinimizeOptions): MinimizeResult {
  const n = x0.length;
  const gtol = opts.gtol ?? 1e-8;
  const maxIter = opts.maxIter ?? 2000;
  const M = opts.memory ?? 12;
  const sc = opts.scale ?? new Float64Array(n).fill(1);
  // Work in z = x / scale.
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lo[i] = opts.lower[i] / sc[i];
    hi[i] = opts.upper[i] / sc[i];
  }
  const xs = new Float64Array(n);
  const gx = new Float64Array(n);
  let evaluations = 0;
  const evalZ = (z: Float64Array, gz: Float64Array): number => {
    for (let i = 0; i < n; i++) xs[i] = z[i] * sc[i];
    evaluations++;
    const v = f(xs, gx);
    for (let i = 0; i < n; i++) gz[i] = gx[i] * sc[i];
    return v;
  };

  let z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = clip(x0[i] / sc[i], lo[i], hi[i]);
  let g = new Float64Array(n);
  let fz = evalZ(z, g);
  if (!Number.isFinite(fz)) {
    return {
      x: Float64Array.from(z, (v, i) => v * sc[i]),
      fun: fz,
      grad: gx.slice(),
      iterations: 0,
      evaluations,
      converged: false,
      pgNorm: Infinity,
      message: 'objective is not finite at the starting point',
    };
  }

  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const RHO: number[] = [];
  const d = new Float64Array(n);
  const free = new Uint8Array(n);
  const alpha = new Float64Array(M);
  let zNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iterations = 0;
  let message = 'maximum number of iterations reached';
  let converged = false;
  let pgNorm = Infinity;
  let stalls = 0;

  for (; iterations < maxIter; iterations++) {
    pgNorm = 0;
    for (let i = 0; i < n; i++) {
      const pg = z[i] - clip(z[i] - g[i], lo[i], hi[i]);
      pgNorm = Math.max(pgNorm, Math.abs(pg));
      const atLo = z[i] <= lo[i] && g[i] > 0;
      const atHi = z[i] >= hi[i] && g[i] < 0;
      free[i] = atLo || atHi || lo[i] === hi[i] ? 0 : 1;
    }
    if (pgNorm <= gtol) {
      converged = true;
      message = 'projected gradient below tolerance';
      break;
    }
    // Two-loop recursion restricted to the free variables.
    for (let i = 0; i < n; i++) d[i] = free[i] ? -g[i] : 0;
    const k = S.length;
    for (let j = k - 1; j >= 0; j--) {
      let a = 0;
      const s = S[j];
      for (let i = 0; i < n; i++) if (free[i]) a += s[i] * d[i];
      a *= RHO[j];
      alpha[j] = a;
      const y = Y[j];
      for (let i = 0; i < n; i++) if (free[i]) d[i] -= a * y[i];
    }
    if (k > 0) {
      const s = S[k - 1];
      const y = Y[k - 1];
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < n; i++) {
        sy += s[i] * y[i];
        yy += y[i] * y[i];
      }
      const gamma = sy / yy;
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let j = 0; j < k; j++) {
      let b = 0;
      const y = Y[j];
      for (let i = 0; i < n; i++) if (free[i]) b += y[i] * d[i];
      b *= RHO[j];
      const s = S[j];
      for (let i = 0; i < n; i++) if (free[i]) d[i] += (alpha[j] - b) * s[i];
    }
    let dg = 0;
    for (let i = 0; i < n; i++) dg += d[i] * g[i];
    if (!(dg < 0)) {
      // Not a descent direction: drop the memory and use steepest descent.
      S.length = 0;
      Y.length = 0;
      RHO.length = 0;
      for (let i = 0; i < n; i++) d[i] = free[i] ? -g[i] : 0;
    }
    // First step of a fresh memory: keep it modest.
    let t = 1;
    if (S.length === 0) {
      let dn = 0;
      for (let i = 0; i < n; i++) dn = Math.max(dn, Math.abs(d[i]));
      t = Math.min(1, 1 / Math.max(dn, 1e-300));
    }
    // Backtracking along the projected path.
    let fNew = Infinity;
    let accepted = false;
    for (let ls = 0; ls < 60; ls++) {
      let decrease = 0;
      for (let i = 0; i < n; i++) {
        zNew[i] = clip(z[i] + t * d[i], lo[i], hi[i]);
        decrease += g[i] * (zNew[i] - z[i]);
      }
      fNew = evalZ(zNew, gNew);
      if (Number.isFinite(fNew) && fNew <= fz + 1e-4 * decrease) {
        accepted = true;
        break;
      }
      // Quadratic interpolation of the step, kept within [0.1, 0.5] of the previous one.
      let tq = 0.5 * t;
      if (Number.isFinite(fNew) && decrease < 0) {
        const denom = 2 * (fNew - fz - decrease);
        if (denom > 0) tq = clip((-decrease * t) / denom, 0.1 * t, 0.5 * t);
      }
      t = tq;
    }
    if (!accepted) {
      if (S.length > 0) {
        // Retry once from steepest descent before giving up.
        S.length = 0;
        Y.length = 0;
        RHO.length = 0;
        stalls++;
        if (stalls < 3) continue;
      }
      converged = pgNorm <= Math.max(gtol * 1e3, 1e-6);
      message = converged ? 'line search cannot decrease further (at numerical precision)' : 'line search failed';
      break;
    }
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    let ss = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = zNew[i] - z[i];
      y[i] = gNew[i] - g[i];
      sy += s[i] * y[i];
      ss += s[i] * s[i];
      yy += y[i] * y[i];
    }
    const fOld = fz;
    [z, zNew] = [zNew, z];
    [g, gNew] = [gNew, g];
    fz = fNew;
    if (sy > 1e-12 * Math.sqrt(ss * yy) && sy > 0) {
      if (S.length === M) {
        S.shift();
        Y.shift();
        RHO.shift();
      }
      S.push(s);
      Y.push(y);
      RHO.push(1 / sy);
    }
    if (ss === 0 || fOld - fz <= 1e-16 * Math.max(1, Math.abs(fz))) {
      if (pgNorm < 1e-5) {
        // No progress possible at double precision.
        converged = true;
        message = 'no further decrease at double precision';
        iterations++;
        break;
      }
      // Stuck far from stationarity (a kink): restart from steepest descent a few times.
      S.length = 0;
      Y.length = 0;
      RHO.length = 0;
      if (++stalls >= 5) {
        message = 'no decrease possible although the gradient is not small (non-smooth likelihood?)';
        iterations++;
        break;
      }
    }
  }
  const x = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = z[i] * sc[i];
    grad[i] = g[i] / sc[i];
  }
  return { x, fun: fz, grad, iterations, evaluations, converged, pgNorm, message };
}
