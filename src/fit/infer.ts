/**
 * Hypothesis tests with the asymptotic (Wald) formulae of arXiv:1007.1727, computed as pyhf computes
 * them: test statistics q_μ, q̃_μ and q_0; the Asimov dataset from the fit with the POI fixed at 0
 * (at 1 for q_0); CLs+b, CLb and CLs observed and the expected band (−2σ … +2σ); upper limits.
 */
import { WorkspaceError } from './errors.ts';
import { fit, fixedPoiFit, type FitOptions, type FitResult } from './mle.ts';
import type { Model, ModelData } from './model.ts';
import { expectedData, NllWorkspace } from './nll.ts';
import { normalCdf } from './special.ts';

export type TestStatistic = 'qtilde' | 'q' | 'q0';

export interface TestStatResult {
  /** Value of the test statistic. */
  value: number;
  /** Best fit with the POI free. */
  free: FitResult;
  /** Best fit with the POI fixed at the tested value. */
  fixed: FitResult;
}

/** Shared settings of the fits behind a test. */
export interface InferenceOptions extends Omit<FitOptions, 'init' | 'workspace'> {
  init?: Float64Array;
}

function checkTestStat(kind: TestStatistic, poiTest: number): void {
  if (!['qtilde', 'q', 'q0'].includes(kind))
    throw new WorkspaceError(`unknown test statistic "${kind}" (qtilde, q or q0)`, '');
  if (!Number.isFinite(poiTest))
    throw new WorkspaceError(`the POI test value must be a finite number, got ${poiTest}`, '');
}

/**
 * q_μ / q̃_μ (zero when μ̂ > μ) or q_0 (zero when μ̂ < 0) for `data`:
 * 2·(NLL(μ, θ̂̂) − NLL(μ̂, θ̂)), clipped at 0.
 *
 * @example
 * ```ts
 * import { buildModel, testStatistic, uncorrelatedBackground } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const model = buildModel(spec);
 * testStatistic('qtilde', 1.0, model, model.observedData()).value;
 * ```
 */
export function testStatistic(
  kind: TestStatistic,
  poiTest: number,
  model: Model,
  data: ModelData,
  opts: InferenceOptions & { workspace?: NllWorkspace; freeInit?: Float64Array } = {},
): TestStatResult {
  checkTestStat(kind, poiTest);
  const fixedRes = fixedPoiFit(model, data, poiTest, { ...opts, init: opts.init });
  const freeRes = fit(model, data, { ...opts, init: opts.freeInit ?? opts.init });
  let t = 2 * (fixedRes.nll - freeRes.nll);
  if (!(t > 0)) t = 0;
  const muHat = freeRes.pars[model.poiIndex];
  if (kind === 'q0') {
    if (muHat < 0) t = 0;
  } else if (muHat > poiTest) t = 0;
  return { value: t, free: freeRes, fixed: fixedRes };
}

/** pyhf's `generate_asimov_data`: expected data at the best fit with the POI fixed at `asimovMu`. */
export function asimovData(
  model: Model,
  data: ModelData,
  asimovMu: number,
  opts: InferenceOptions & { workspace?: NllWorkspace } = {},
): { data: ModelData; pars: Float64Array } {
  const r = fixedPoiFit(model, data, asimovMu, opts);
  const expected = expectedData(model, r.pars);
  // A fit that ended in the clipped region (see nll.ts) expects the clipped rate, 0, not a negative count.
  for (let b = 0; b < expected.main.length; b++) if (expected.main[b] < 0) expected.main[b] = 0;
  return { data: expected, pars: r.pars };
}

export interface HypotestResult {
  poiTest: number;
  testStat: TestStatistic;
  /** CLs observed. */
  clsObs: number;
  clsbObs: number;
  clbObs: number;
  /** Expected CLs at −2σ, −1σ, median, +1σ, +2σ (pyhf's order). */
  clsExp: number[];
  clsbExp: number[];
  clbExp: number[];
  /**
   * What pyhf's `hypotest` returns: CLs observed and expected, except for q_0 where it returns the
   * discovery p-value CLs+b (observed and expected).
   */
  reported: { obs: number; exp: number[] };
  /** Observed test statistic and its Asimov counterpart. */
  q: number;
  qA: number;
  /** The asymptotic test statistic compared with the distributions (pyhf's `teststat`). */
  teststat: number;
  muHat: number;
  fits: {
    freeData: FitResult;
    fixedData: FitResult;
    asimov: Float64Array;
    freeAsimov: FitResult;
    fixedAsimov: FitResult;
  };
}

export interface HypotestOptions extends InferenceOptions {
  /** Test statistic (default 'qtilde', as pyhf). */
  testStat?: TestStatistic;
  /** Start the Asimov fits at the Asimov parameters (faster; default false, as pyhf). */
  warmStart?: boolean;
  /** 'normal' (pyhf's default) or 'clipped_normal'. */
  baseDistribution?: 'normal' | 'clipped_normal';
}

/** Right-tail p-value of the asymptotic distribution shifted by `shift`, NaN below `cutoff`. */
function pvalue(value: number, shift: number, cutoff: number): number {
  return value >= cutoff ? normalCdf(-(value - shift)) : NaN;
}

/**
 * The asymptotic hypothesis test of `poiTest` (pyhf's `infer.hypotest` with the asymptotic
 * calculator and `return_expected_set`).
 *
 * @example
 * ```ts
 * import { buildModel, hypotest, uncorrelatedBackground } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const model = buildModel(spec);
 * const r = hypotest(model, 1.0);
 * r.clsObs; r.clsExp; // observed CLs and the expected band
 * ```
 */
export function hypotest(
  model: Model,
  poiTest: number,
  data: ModelData = model.observedData(),
  opts: HypotestOptions = {},
): HypotestResult {
  const kind = opts.testStat ?? 'qtilde';
  const workspace = new NllWorkspace(model);
  const o = { ...opts, workspace };
  const obs = testStatistic(kind, poiTest, model, data, o);
  const asimovMu = kind === 'q0' ? 1 : 0;
  const asimov = asimovData(model, data, asimovMu, o);
  // pyhf starts every fit from the suggested init; `warmStart` starts the Asimov fits from the Asimov
  // parameters instead (where the free fit's optimum is), which is faster but can pick another
  // minimum of a multimodal likelihood.
  const initA = opts.warmStart ? Float64Array.from(asimov.pars) : undefined;
  const asi = testStatistic(kind, poiTest, model, asimov.data, { ...o, init: initA ?? opts.init, freeInit: initA });
  const sq = Math.sqrt(obs.value);
  const sqA = Math.sqrt(asi.value);
  let teststat: number;
  if (kind === 'qtilde' && !(sq < sqA)) teststat = (obs.value - asi.value) / (2 * sqA);
  else teststat = sq - sqA;
  const cutoff = opts.baseDistribution === 'clipped_normal' ? -sqA : -Infinity;
  const sbShift = -sqA;
  const pv = (t: number): [number, number, number] => {
    const clsb = pvalue(t, sbShift, cutoff);
    const clb = pvalue(t, 0, cutoff);
    return [clsb, clb, clsb / clb];
  };
  const [clsbObs, clbObs, clsObs] = pv(teststat);
  const clsExp: number[] = [];
  const clsbExp: number[] = [];
  const clbExp: number[] = [];
  for (const nsigma of [2, 1, 0, -1, -2]) {
    const t = nsigma > cutoff ? nsigma : cutoff;
    const [a, b, c] = pv(t);
    clsbExp.push(a);
    clbExp.push(b);
    clsExp.push(c);
  }
  return {
    poiTest,
    testStat: kind,
    clsObs,
    clsbObs,
    clbObs,
    clsExp,
    clsbExp,
    clbExp,
    reported: kind === 'q0' ? { obs: clsbObs, exp: clsbExp } : { obs: clsObs, exp: clsExp },
    q: obs.value,
    qA: asi.value,
    teststat,
    muHat: obs.free.pars[model.poiIndex],
    fits: {
      freeData: obs.free,
      fixedData: obs.fixed,
      asimov: asimov.pars,
      freeAsimov: asi.free,
      fixedAsimov: asi.fixed,
    },
  };
}

export interface UpperLimitResult {
  /** Observed upper limit on the POI. */
  obs: number;
  /** Expected limits at −2σ, −1σ, median, +1σ, +2σ. */
  exp: number[];
  level: number;
  /** Number of hypothesis tests run. */
  tests: number;
}

/** Brent's root finder on [a, b] (f(a), f(b) of opposite sign). */
function brent(f: (x: number) => number, a: number, b: number, fa: number, fb: number, xtol: number): number {
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let it = 0; it < 100; it++) {
    if (fb * fc > 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + 0.5 * xtol;
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      const s = fb / fa;
      let p: number;
      let q: number;
      if (a === c) {
        p = 2 * m * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = d;
      }
    } else {
      d = m;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
  }
  return b;
}

/**
 * Upper limits on the POI at CLs = `level` (default 0.05): observed and the expected band, each by
 * Brent root finding on CLs(μ) − level inside [lo, hi] (default: the POI's bounds). A limit that is
 * not reached inside the range is NaN (widen `range` or the POI's bounds).
 *
 * @example
 * ```ts
 * import { buildModel, upperLimit, uncorrelatedBackground } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const { obs, exp } = upperLimit(buildModel(spec));
 * ```
 */
export function upperLimit(
  model: Model,
  data: ModelData = model.observedData(),
  opts: HypotestOptions & { level?: number; range?: [number, number]; xtol?: number } = {},
): UpperLimitResult {
  const level = opts.level ?? 0.05;
  const b = model.suggestedBounds();
  const lo0 = opts.range?.[0] ?? Math.max(b.lower[model.poiIndex], 0);
  const hi0 = opts.range?.[1] ?? b.upper[model.poiIndex];
  const xtol = opts.xtol ?? 1e-6;
  const cache = new Map<number, HypotestResult>();
  const test = (mu: number): HypotestResult => {
    let r = cache.get(mu);
    if (!r) {
      r = hypotest(model, mu, data, opts);
      cache.set(mu, r);
    }
    return r;
  };
  const solve = (pick: (r: HypotestResult) => number): number => {
    const g = (mu: number): number => pick(test(mu)) - level;
    // CLs falls with μ: bracket the crossing with a coarse scan, then refine.
    let a = lo0 > 0 ? lo0 : Math.min(1e-3, hi0 / 100) || 1e-3;
    let fa = g(a);
    if (fa <= 0) return a;
    let bb = a;
    let fb = fa;
    while (fb > 0) {
      a = bb;
      fa = fb;
      if (bb >= hi0) return NaN;
      bb = Math.min(hi0, bb < 0.5 ? 0.5 : bb * 2);
      fb = g(bb);
    }
    return brent(g, a, bb, fa, fb, xtol);
  };
  const obs = solve((r) => r.clsObs);
  const exp = [0, 1, 2, 3, 4].map((i) => solve((r) => r.clsExp[i]));
  return { obs, exp, level, tests: cache.size };
}
