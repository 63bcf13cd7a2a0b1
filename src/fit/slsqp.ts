/**
 * pyhf-compatible minimization: Kraft's SLSQP as scipy runs it for pyhf's default numpy backend —
 * forward-difference gradients with scipy's absolute step, a BFGS matrix started at the identity and
 * damped as Powell proposed, a box-constrained quadratic subproblem, the Armijo-type L1 line search
 * and SLSQP's own stopping rules (|Δf| < acc or |step| < acc after a line search, |g·d| < acc after
 * a subproblem), with acc = scipy's default ftol 1e-6.
 *
 * Why this exists: SLSQP stops about 1e-3σ away from the optimum, and the Asimov dataset depends
 * linearly on where the fit with μ fixed at 0 stopped, so pyhf's expected CLs differ from the exact
 * optimum by up to ~1e-4 (relative). pyhf's published numbers (its validation set, results made with
 * pyhf) are reproduced only by following the same iterates. Fixed parameters are left out of the
 * variables: pyhf holds them with equality constraints, which in exact arithmetic give the same
 * iterates (their step is 0 and they leave the free block of the BFGS matrix untouched).
 *
 * Written after the algorithm (D. Kraft, DFVLR-FB 88-28, 1988) and the control flow and constants of
 * scipy's implementation, not translated: a dense BFGS matrix instead of LDLᵀ factors and an
 * active-set solver for the box QP instead of LSQ/NNLS (same iterates up to rounding).
 */

export interface SlsqpOptions {
  lower: Float64Array;
  upper: Float64Array;
  /** SLSQP's accuracy `acc` (scipy's `ftol`). Default 1e-6, scipy's default. */
  acc?: number;
  /** Iteration limit (pyhf passes 100000). */
  maxIter?: number;
  /** Absolute finite-difference step (scipy's default √ε = 1.49e-8); unused with `grad`. */
  eps?: number;
  /**
   * Analytic gradient: fills `out` with ∇f at `x` (scipy's `jac=`, what pyhf passes with
   * `do_grad=True` on its jax/pytorch backends). It is only asked for at the point `f` was last
   * evaluated at, so a caller may compute both in one pass and cache. Without it, forward
   * differences as scipy's `approx_derivative` (pyhf's default numpy backend).
   */
  grad?: (x: Float64Array, out: Float64Array) => void;
}

export interface SlsqpResult {
  x: Float64Array;
  fun: number;
  converged: boolean;
  iterations: number;
  evaluations: number;
  message: string;
}

const SQRT_EPS = Math.sqrt(2 ** -52);

/**
 * Forward-difference gradient as scipy's `approx_derivative` (2-point, absolute step `h`) computes
 * it: the step flips sign when x + h leaves the box, and the divisor is the representable step.
 */
function fdGradient(
  f: (x: Float64Array) => number,
  x: Float64Array,
  fx: number,
  lower: Float64Array,
  upper: Float64Array,
  h0: number,
  out: Float64Array,
  xt: Float64Array,
): number {
  const n = x.length;
  let evals = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    let h = xi + h0 - xi === 0 ? SQRT_EPS * (xi >= 0 ? 1 : -1) * Math.max(1, Math.abs(xi)) : h0;
    const lo = lower[i];
    const hi = upper[i];
    const t = xi + h;
    const below = xi - lo;
    const above = hi - xi;
    const fits = Math.abs(h) <= Math.max(below, above);
    if ((t < lo || t > hi) && fits) h = -h;
    else if (!fits) h = above >= below ? above : -below;
    xt.set(x);
    xt[i] = xi + h;
    const dx = xt[i] - xi;
    out[i] = (f(xt) - fx) / dx;
    evals++;
  }
  return evals;
}

/**
 * Solves A z = b for symmetric positive definite A restricted to the rows and columns `idx` (A has
 * row stride `ld`); false if not PD. `work` holds the Cholesky factor L (row stride `ld`); rows
 * before `from` are taken as already factored for this `idx` (row i of L depends only on A and the
 * rows above it, so a caller that changed idx from position `from` on keeps the rows above).
 */
function choleskySolve(
  a: Float64Array,
  idx: number[],
  ld: number,
  b: Float64Array,
  z: Float64Array,
  work: Float64Array,
  from = 0,
): boolean {
  const m = idx.length;
  for (let i = from; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[idx[i] * ld + idx[j]];
      for (let k = 0; k < j; k++) s -= work[i * ld + k] * work[j * ld + k];
      if (i === j) {
        if (!(s > 0)) return false;
        work[i * ld + i] = Math.sqrt(s);
      } else work[i * ld + j] = s / work[j * ld + j];
    }
  }
  for (let i = 0; i < m; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= work[i * ld + k] * z[k];
    z[i] = s / work[i * ld + i];
  }
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < m; k++) s -= work[k * ld + i] * z[k];
    z[i] = s / work[i * ld + i];
  }
  return true;
}

/**
 * The SQP subproblem: argmin ½ dᵀBd + gᵀd with lo ≤ d ≤ hi (lo ≤ 0 ≤ hi), by a primal active-set
 * method. B is positive definite, so the solution is unique and equals the one SLSQP's LSQ/NNLS
 * route finds. Returns false when B is not positive definite on the free set (caller resets B).
 */
/** Scratch memory of {@link boxQp}, allocated once per minimization (the QP runs every iteration). */
class QpScratch {
  readonly state: Int8Array;
  readonly rhs: Float64Array;
  readonly z: Float64Array;
  readonly work: Float64Array;
  readonly free: number[] = [];
  /** The free set `work` holds the factor of (its first `factored` rows). */
  readonly factoredFree: number[] = [];
  constructor(n: number) {
    this.state = new Int8Array(n);
    this.rhs = new Float64Array(n);
    this.z = new Float64Array(n);
    this.work = new Float64Array(n * n);
  }
}

function boxQp(
  B: Float64Array,
  g: Float64Array,
  lo: Float64Array,
  hi: Float64Array,
  d: Float64Array,
  scratch: QpScratch,
): boolean {
  const n = g.length;
  const { state, rhs, z, work, free, factoredFree } = scratch; // state: 0 free, -1 at lower, +1 at upper
  state.fill(0);
  // Rows of the Cholesky factor in `work` that are valid for factoredFree (none yet: B is new).
  let factored = 0;
  for (let i = 0; i < n; i++) d[i] = lo[i] > 0 ? lo[i] : hi[i] < 0 ? hi[i] : 0;
  for (let it = 0; it < 10 * n + 20; it++) {
    free.length = 0;
    for (let i = 0; i < n; i++) if (state[i] === 0) free.push(i);
    // Newton step in the free variables from the current point.
    for (let a = 0; a < free.length; a++) {
      const i = free[a];
      let r = g[i];
      for (let j = 0; j < n; j++) r += B[i * n + j] * d[j];
      rhs[a] = -r;
    }
    // One variable joins or leaves the free set per step: the factor's rows above it stay valid.
    let keep = 0;
    const lim = Math.min(factored, free.length);
    while (keep < lim && factoredFree[keep] === free[keep]) keep++;
    if (free.length > 0 && !choleskySolve(B, free, n, rhs, z, work, keep)) return false;
    factored = free.length;
    factoredFree.length = 0;
    for (let a = 0; a < free.length; a++) factoredFree.push(free[a]);
    let alpha = 1;
    let block = -1;
    let blockSide = 0;
    for (let a = 0; a < free.length; a++) {
      const i = free[a];
      const p = z[a];
      if (p < 0 && d[i] + p < lo[i]) {
        const t = (lo[i] - d[i]) / p;
        if (t < alpha) {
          alpha = t;
          block = i;
          blockSide = -1;
        }
      } else if (p > 0 && d[i] + p > hi[i]) {
        const t = (hi[i] - d[i]) / p;
        if (t < alpha) {
          alpha = t;
          block = i;
          blockSide = 1;
        }
      }
    }
    for (let a = 0; a < free.length; a++) d[free[a]] += alpha * z[a];
    if (block >= 0) {
      state[block] = blockSide;
      d[block] = blockSide < 0 ? lo[block] : hi[block];
      continue;
    }
    // Full step: optimal on this working set. Release the bound whose multiplier has the wrong sign.
    let worst = -1;
    let worstV = 0;
    for (let i = 0; i < n; i++) {
      if (state[i] === 0) continue;
      let r = g[i];
      for (let j = 0; j < n; j++) r += B[i * n + j] * d[j];
      const v = state[i] < 0 ? -r : r; // > 0: the gradient pulls the variable off its bound
      if (v > worstV) {
        worstV = v;
        worst = i;
      }
    }
    if (worst < 0) return true;
    state[worst] = 0;
  }
  return true;
}

function setIdentity(B: Float64Array, n: number): void {
  B.fill(0);
  for (let i = 0; i < n; i++) B[i * n + i] = 1;
}

function norm2(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Minimizes `f` over the box [lower, upper] the way scipy's SLSQP does (no general constraints).
 *
 * @example
 * ```ts
 * import { minimizeSlsqp } from 'ristretto/fit';
 * const r = minimizeSlsqp((x) => (x[0]! - 2) ** 2 + (x[1]! + 1) ** 2, new Float64Array([0, 0]), {
 *   lower: new Float64Array([-5, 0]),
 *   upper: new Float64Array([5, 5]),
 * });
 * r.x; // ≈ [2, 0]: the second variable stops at its bound
 * ```
 */
export function minimizeSlsqp(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: SlsqpOptions): SlsqpResult {
  const n = x0.length;
  const { lower, upper } = opts;
  const acc = opts.acc ?? 1e-6;
  const tol = 10 * acc;
  const maxIter = opts.maxIter ?? 100000;
  const h0 = opts.eps ?? 1.4901161193847656e-8;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = x0[i];
    x[i] = v < lower[i] ? lower[i] : v > upper[i] ? upper[i] : v;
  }
  const xt = new Float64Array(n);
  const xPrev = new Float64Array(n);
  const g = new Float64Array(n);
  const gNew = new Float64Array(n);
  const s = new Float64Array(n);
  const u = new Float64Array(n);
  const v = new Float64Array(n);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const B = new Float64Array(n * n);
  const qp = new QpScratch(n);
  let evaluations = 0;
  const done = (converged: boolean, iterations: number, message: string, fun: number): SlsqpResult => ({
    x,
    fun,
    converged,
    iterations,
    evaluations,
    message,
  });

  const grad = opts.grad;
  // scipy counts gradient calls apart (njev); evaluations here counts calls of f only.
  const gradientAt = (fxNow: number, out: Float64Array): void => {
    if (grad) grad(x, out);
    else evaluations += fdGradient(f, x, fxNow, lower, upper, h0, out, xt);
  };
  let fx = f(x);
  evaluations++;
  if (n === 0) return done(true, 0, 'no free parameters', fx);
  gradientAt(fx, g);
  let f0 = fx;
  let resets = 0;
  let iter = 0;
  // Label 110 of the original: reset the BFGS matrix; more than five resets end the run.
  const reset = (): boolean => {
    resets++;
    if (resets > 5) return false;
    setIdentity(B, n);
    return true;
  };
  // After too many resets SLSQP accepts the point with a 10× looser test.
  const relaxed = (): SlsqpResult =>
    Math.abs(fx - f0) < tol || norm2(s) < tol
      ? done(true, iter, 'optimization terminated (relaxed test after BFGS resets)', fx)
      : done(false, iter, 'positive directional derivative for line search', fx);
  reset();
  for (;;) {
    iter++;
    if (iter > maxIter) return done(false, iter - 1, 'iteration limit reached', fx);
    for (let i = 0; i < n; i++) {
      lo[i] = lower[i] - x[i];
      hi[i] = upper[i] - x[i];
    }
    if (!boxQp(B, g, lo, hi, s, qp)) {
      if (!reset()) return relaxed();
      continue;
    }
    for (let i = 0; i < n; i++) s[i] = s[i] < lo[i] ? lo[i] : s[i] > hi[i] ? hi[i] : s[i];
    f0 = fx;
    xPrev.set(x);
    let gs = 0;
    for (let i = 0; i < n; i++) gs += g[i] * s[i];
    if (Math.abs(gs) < acc) return done(true, iter, 'optimization terminated successfully', fx);
    let h3 = gs;
    if (h3 >= 0) {
      if (!reset()) return relaxed();
      continue;
    }
    // Armijo-type line search on the (here constraint-free) L1 merit function.
    let alpha = 1;
    let line = 0;
    for (;;) {
      line++;
      h3 *= alpha;
      for (let i = 0; i < n; i++) {
        s[i] = alpha * s[i];
        x[i] = xPrev[i] + s[i];
      }
      fx = f(x);
      evaluations++;
      const h1 = fx - f0;
      if (h1 <= h3 / 10 || line > 10) break;
      const a = h3 / (2 * (h3 - h1));
      alpha = a > 0.1 ? a : 0.1; // also 0.1 when f is NaN, as Fortran's MAX
    }
    if (Math.abs(fx - f0) < acc || norm2(s) < acc) return done(true, iter, 'optimization terminated successfully', fx);
    gradientAt(fx, gNew);
    // Damped BFGS update of B with the step s and the gradient change.
    let h1 = 0;
    let h2 = 0;
    for (let i = 0; i < n; i++) {
      u[i] = gNew[i] - g[i];
      let bs = 0;
      for (let j = 0; j < n; j++) bs += B[i * n + j] * s[j];
      v[i] = bs;
    }
    for (let i = 0; i < n; i++) {
      h1 += s[i] * u[i];
      h2 += s[i] * v[i];
    }
    const h3b = 0.2 * h2;
    if (h1 < h3b) {
      const h4 = (h2 - h3b) / (h2 - h1);
      h1 = h3b;
      for (let i = 0; i < n; i++) u[i] = h4 * u[i] + (1 - h4) * v[i];
    }
    g.set(gNew);
    if (h1 === 0 || h2 === 0) {
      if (!reset()) return relaxed();
      continue;
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) B[i * n + j] += (u[i] * u[j]) / h1 - (v[i] * v[j]) / h2;
  }
}
