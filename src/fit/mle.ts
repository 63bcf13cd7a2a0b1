/**
 * Maximum-likelihood fits of a {@link Model}: free fits, fits with the POI fixed, and parameter
 * uncertainties and correlations from the Hessian (central differences of the analytic gradient).
 */
import { FitConvergenceError, FitOptionsError } from './errors.ts';
import { invert } from './linalg.ts';
import type { Model, ModelData } from './model.ts';
import { nll, NllWorkspace, twiceNllPyhfOrder } from './nll.ts';
import { minimizeBounded } from './optimize.ts';
import { checkNominalRates, clippedAt, invalidLikelihood } from './rates.ts';
import { minimizeSlsqp } from './slsqp.ts';

/**
 * - 'slsqp-fd' (default everywhere): scipy's SLSQP on 2·NLL with scipy's
 *   forward-difference gradient and ftol 1e-6 — pyhf's default numpy backend step for step, so its
 *   numbers, including where they stop short of the optimum (~1e-3σ). n + 1 NLL evaluations per
 *   gradient: ~5–10× slower than 'slsqp' on 60-parameter models.
 * - 'slsqp': the same algorithm on the analytic gradient, as pyhf runs it on its
 *   gradient backends (jax, pytorch: `do_grad=True`). It stops at a slightly different point: on
 *   ATLAS RegionA points CLs differ from 'slsqp-fd' by up to ~9e-5 (relative), on the pyhf
 *   validation cases by up to 4e-6.
 * - 'lbfgsb': projected L-BFGS on the analytic gradient, converged to the optimum (gtol 1e-9);
 *   differs from pyhf in the expected band by ~1e-4 and more where pyhf stops early.
 */
export type FitOptimizer = 'lbfgsb' | 'slsqp' | 'slsqp-fd';

/** The optimizer of fits, hypotests and limits when none is given: pyhf's numbers. */
export const DEFAULT_OPTIMIZER: FitOptimizer = 'slsqp-fd';

/**
 * The optimizer of scans when none is given: pyhf's numbers too. Since the NLL re-evaluates only the
 * parameters that moved, a whole RegionA scan with 'slsqp-fd' takes ~28 s on 2 threads (~2× 'slsqp'),
 * well inside the scan goal.
 */
export const DEFAULT_SCAN_OPTIMIZER: FitOptimizer = 'slsqp-fd';

/** Every optimizer name (for CLI checks and messages). */
export const FIT_OPTIMIZERS: readonly FitOptimizer[] = ['slsqp-fd', 'slsqp', 'lbfgsb'];

export interface FitOptions {
  /** Starting values (default the model's suggested init). */
  init?: Float64Array;
  lower?: Float64Array;
  upper?: Float64Array;
  /** 1 = held at its init value (default the model's suggested fixed). */
  fixed?: Uint8Array;
  /** Projected-gradient tolerance of the minimizer. */
  gtol?: number;
  maxIter?: number;
  /** Scratch memory to reuse across fits of the same model. */
  workspace?: NllWorkspace;
  /** Throw FitConvergenceError when the minimizer does not converge (default true). */
  strict?: boolean;
  /** Minimizer (default 'slsqp-fd', pyhf's numbers); see {@link FitOptimizer}. */
  optimizer?: FitOptimizer;
}

export interface FitResult {
  /** Best-fit values of all parameters (fixed ones included). */
  pars: Float64Array;
  /** NLL at the best fit (pyhf's `-logpdf`); `2 * nll` is pyhf's `twice_nll`. */
  nll: number;
  converged: boolean;
  iterations: number;
  evaluations: number;
  message: string;
  /**
   * Set when some bin's expected rate is negative at the best fit and was clipped to 0 (pyhf's
   * `clip_bin_data=0`): which bins and samples, for a warning. The model is valid at its nominal point.
   */
  clipped?: string;
}

/** Natural scale of each parameter: its constraint width (normal), 1/√τ (Poisson) or 1. */
function parameterScales(model: Model): Float64Array {
  const s = new Float64Array(model.npars).fill(1);
  for (let j = 0; j < model.auxPar.length; j++) {
    const p = model.auxPar[j];
    const v = model.auxType[j] === 0 ? model.auxScale[j] : 1 / Math.sqrt(model.auxScale[j]);
    if (Number.isFinite(v) && v > 0) s[p] = Math.min(1, v);
  }
  return s;
}

const scaleCache = new WeakMap<Model, Float64Array>();

/**
 * Minimizes the NLL of `data` over the free parameters.
 *
 * @example
 * ```ts
 * import { buildModel, fit, uncorrelatedBackground } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const model = buildModel(spec);
 * const best = fit(model, model.observedData());
 * best.pars[model.poiIndex]; // μ̂
 * ```
 */
export function fit(model: Model, data: ModelData, opts: FitOptions = {}): FitResult {
  const x0 = opts.init ?? model.suggestedInit();
  const bounds = model.suggestedBounds();
  const lower = opts.lower ?? bounds.lower;
  const upper = opts.upper ?? bounds.upper;
  const fixed = opts.fixed ?? model.suggestedFixed();
  const ws = opts.workspace ?? new NllWorkspace(model);
  let scales = scaleCache.get(model);
  if (!scales) {
    scales = parameterScales(model);
    scaleCache.set(model, scales);
  }
  const freeIdx: number[] = [];
  for (let i = 0; i < model.npars; i++) if (!fixed[i]) freeIdx.push(i);
  const full = Float64Array.from(x0);
  const gFull = new Float64Array(model.npars);
  const nf = freeIdx.length;
  const z0 = new Float64Array(nf);
  const lo = new Float64Array(nf);
  const hi = new Float64Array(nf);
  const sc = new Float64Array(nf);
  freeIdx.forEach((p, i) => {
    z0[i] = x0[p];
    lo[i] = lower[p];
    hi[i] = upper[p];
    sc[i] = scales[p];
  });
  const objective = (z: Float64Array, g: Float64Array): number => {
    for (let i = 0; i < nf; i++) full[freeIdx[i]] = z[i];
    const v = nll(ws, data, full, gFull);
    for (let i = 0; i < nf; i++) g[i] = gFull[freeIdx[i]];
    return v;
  };
  let r: {
    x: Float64Array;
    fun: number;
    converged: boolean;
    iterations: number;
    evaluations: number;
    message: string;
    pgNorm?: number;
  };
  // The one check that keeps a NaN or ∞ likelihood from becoming a result: every fit (mle, cls, limit,
  // scan here, in threads or on FaaS) starts and ends here. The NLL is +∞ where a rate is negative, a wall
  // the minimizers back off from; a fit that cannot start inside it, or ends outside, names the bins.
  checkNominalRates(model);
  if (!Number.isFinite(nll(ws, data, full))) throw invalidLikelihood(model, data, full, 'at the starting values');
  const optimizer = opts.optimizer ?? DEFAULT_OPTIMIZER;
  if (optimizer === 'slsqp' || optimizer === 'slsqp-fd') {
    // pyhf minimizes twice the NLL; SLSQP's stopping rule is absolute in the objective, so the factor 2 matters.
    const twice = (z: Float64Array): number => {
      for (let i = 0; i < nf; i++) full[freeIdx[i]] = z[i];
      return twiceNllPyhfOrder(ws, data, full);
    };
    const grad =
      optimizer === 'slsqp'
        ? (z: Float64Array, g: Float64Array): void => {
            for (let i = 0; i < nf; i++) full[freeIdx[i]] = z[i];
            nll(ws, data, full, gFull);
            for (let i = 0; i < nf; i++) g[i] = 2 * gFull[freeIdx[i]];
          }
        : undefined;
    const s = minimizeSlsqp(twice, z0, { lower: lo, upper: hi, maxIter: opts.maxIter, grad });
    r = { ...s, fun: s.fun / 2 };
  } else if (optimizer === 'lbfgsb') {
    r = minimizeBounded(objective, z0, {
      lower: lo,
      upper: hi,
      scale: sc,
      gtol: opts.gtol ?? 1e-9,
      maxIter: opts.maxIter,
    });
  } else {
    throw new FitOptionsError(
      `unknown optimizer "${String(optimizer)}"`,
      { optimizer: String(optimizer) },
      `use one of ${FIT_OPTIMIZERS.join(', ')}`,
    );
  }
  const pars = Float64Array.from(x0);
  for (let i = 0; i < nf; i++) pars[freeIdx[i]] = r.x[i];
  if (!Number.isFinite(r.fun) || r.x.some((v) => !Number.isFinite(v)))
    throw invalidLikelihood(model, data, pars, 'at the best fit');
  if (!r.converged && opts.strict !== false) {
    const detail = r.pgNorm === undefined ? '' : ` (largest projected gradient ${r.pgNorm.toExponential(2)})`;
    throw new FitConvergenceError(`the fit did not converge: ${r.message} after ${r.iterations} iterations${detail}`, {
      iterations: r.iterations,
    });
  }
  const clipped = clippedAt(model, pars, ws);
  return {
    pars,
    nll: r.fun,
    ...(clipped ? { clipped } : {}),
    converged: r.converged,
    iterations: r.iterations,
    evaluations: r.evaluations,
    message: r.message,
  };
}

/** Fit with the POI held at `poiValue` (pyhf's `fixed_poi_fit`). */
export function fixedPoiFit(model: Model, data: ModelData, poiValue: number, opts: FitOptions = {}): FitResult {
  const init = Float64Array.from(opts.init ?? model.suggestedInit());
  init[model.poiIndex] = poiValue;
  const fixed = Uint8Array.from(opts.fixed ?? model.suggestedFixed());
  fixed[model.poiIndex] = 1;
  return fit(model, data, { ...opts, init, fixed });
}

export interface FitWithErrors extends FitResult {
  names: string[];
  /** Standard errors (0 for fixed parameters). */
  errors: Float64Array;
  /** Covariance (row-major npars × npars; zero rows/columns for fixed parameters). */
  covariance: Float64Array;
  correlation: Float64Array;
}

/**
 * Free fit plus uncertainties: the inverse of the NLL Hessian at the best fit, the Hessian from
 * central differences of the analytic gradient.
 */
export function fitWithErrors(model: Model, data: ModelData, opts: FitOptions = {}): FitWithErrors {
  const best = fit(model, data, opts);
  const fixed = opts.fixed ?? model.suggestedFixed();
  const ws = opts.workspace ?? new NllWorkspace(model);
  const bounds = model.suggestedBounds();
  const lower = opts.lower ?? bounds.lower;
  const upper = opts.upper ?? bounds.upper;
  const freeIdx: number[] = [];
  for (let i = 0; i < model.npars; i++) if (!fixed[i]) freeIdx.push(i);
  const nf = freeIdx.length;
  const H: number[][] = Array.from({ length: nf }, () => new Array<number>(nf).fill(0));
  const gp = new Float64Array(model.npars);
  const gm = new Float64Array(model.npars);
  const x = Float64Array.from(best.pars);
  for (let a = 0; a < nf; a++) {
    const p = freeIdx[a];
    const h = 1e-5 * Math.max(1, Math.abs(x[p]));
    // One-sided near a bound, central otherwise.
    const up = Math.min(x[p] + h, upper[p]);
    const dn = Math.max(x[p] - h, lower[p]);
    const xp = Float64Array.from(x);
    xp[p] = up;
    nll(ws, data, xp, gp);
    const xm = Float64Array.from(x);
    xm[p] = dn;
    nll(ws, data, xm, gm);
    for (let b = 0; b < nf; b++) H[a][b] = (gp[freeIdx[b]] - gm[freeIdx[b]]) / (up - dn);
  }
  for (let a = 0; a < nf; a++)
    for (let b = 0; b < a; b++) {
      const v = 0.5 * (H[a][b] + H[b][a]);
      H[a][b] = v;
      H[b][a] = v;
    }
  const C = invert(H);
  if (!C)
    throw new FitConvergenceError(
      'the Hessian at the best fit is singular: some parameter is not constrained by the data or its constraint',
      { parameters: model.parNames().length },
    );
  const n = model.npars;
  const covariance = new Float64Array(n * n);
  const errors = new Float64Array(n);
  for (let a = 0; a < nf; a++) {
    for (let b = 0; b < nf; b++) covariance[freeIdx[a] * n + freeIdx[b]] = C[a][b];
    errors[freeIdx[a]] = Math.sqrt(Math.max(0, C[a][a]));
  }
  const correlation = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const d = errors[i] * errors[j];
      correlation[i * n + j] = d > 0 ? covariance[i * n + j] / d : i === j ? 1 : 0;
    }
  return { ...best, names: model.parNames(), errors, covariance, correlation };
}
