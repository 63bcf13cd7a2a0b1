/**
 * The pyhf-compatible minimizer (src/fit/slsqp.ts) against independent references:
 * - scipy 1.17.1's `minimize(f, x0, method='SLSQP', bounds=...)` with default options (the call pyhf
 *   makes), run once by hand and its iterations, evaluations and end point recorded here;
 * - pyhf's own documented outputs (doctests of `pyhf.infer.mle.fit`, `fixed_poi_fit` and
 *   `AsymptoticCalculator`, numpy backend) for `uncorrelated_background([12, 11], [50, 52], [3, 7])`
 *   with observations [51, 48], printed there to 8 digits.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../helpers/rng.ts';
import { buildModel, fit, fixedPoiFit, hypotest, minimizeSlsqp, uncorrelatedBackground } from '../../src/fit/index.ts';

describe('minimizeSlsqp follows scipy SLSQP', () => {
  it('bounded Rosenbrock: same iterations, evaluations and end point as scipy', () => {
    const f = (x: Float64Array) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
    const r = minimizeSlsqp(f, [-1.2, 1], { lower: new Float64Array([-2, -2]), upper: new Float64Array([0.8, 2]) });
    // scipy: x = [0.8, 0.6399999925503619], nit 28, nfev 90, status 0. Analytic optimum (0.8, 0.64).
    expect(r.converged).toBe(true);
    expect(r.iterations).toBe(28);
    expect(r.evaluations).toBe(90);
    expect(r.x[0]).toBe(0.8);
    expect(Math.abs(r.x[1] - 0.6399999925503619)).toBeLessThan(1e-10);
  });

  it('three variables, two bounds active at the end: as scipy', () => {
    const f = (x: Float64Array) => (x[0] - 1) ** 2 + 10 * (x[1] - x[0] ** 2) ** 2 + Math.exp(x[2]) - x[2] + x[0] * x[2];
    const r = minimizeSlsqp(f, [3, -2, 1], {
      lower: new Float64Array([-5, 0.5, -1]),
      upper: new Float64Array([5, 4, 1]),
    });
    // scipy: x = [1.4999216280545906, 2.249659814358685, -0.9999999999999983], nit 21, nfev 87.
    // Same path; the end point differs by rounding (dense BFGS matrix here, LDL factors in scipy).
    expect(r.iterations).toBe(21);
    expect(r.evaluations).toBe(87);
    const ref = [1.4999216280545906, 2.249659814358685, -0.9999999999999983];
    ref.forEach((v, i) => expect(Math.abs(r.x[i] - v), `x[${i}]`).toBeLessThan(2e-5));
  });

  it('a 40-dimensional box QP with many bounds active: the minimum a projected-gradient solver finds', () => {
    // ½ xᵀAx − bᵀx with A = MᵀM + I (positive definite) and b large enough to push about half the
    // variables onto a bound, so the QP subproblem frees and fixes variables many times.
    const n = 40;
    const r = rng(11);
    const M = Array.from({ length: n }, () => Array.from({ length: n }, () => r() - 0.5));
    const A = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => M.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? 1 : 0)),
    );
    const b = Array.from({ length: n }, () => (r() - 0.5) * 20);
    const lower = new Float64Array(n).fill(-1);
    const upper = new Float64Array(n).fill(1);
    const grad = (x: ArrayLike<number>, g: Float64Array) => {
      for (let i = 0; i < n; i++) {
        let s = -b[i];
        for (let j = 0; j < n; j++) s += A[i][j] * x[j];
        g[i] = s;
      }
    };
    const f = (x: Float64Array) => {
      let v = 0;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i][j] * x[j];
        v += 0.5 * x[i] * s - b[i] * x[i];
      }
      return v;
    };
    // Reference: projected gradient with step 1/L (L ≥ the largest eigenvalue: the largest row sum).
    const L = Math.max(...A.map((row) => row.reduce((s, v) => s + Math.abs(v), 0)));
    const y = new Float64Array(n);
    const gy = new Float64Array(n);
    for (let it = 0; it < 200_000; it++) {
      grad(y, gy);
      let move = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.min(1, Math.max(-1, y[i] - gy[i] / L));
        move = Math.max(move, Math.abs(v - y[i]));
        y[i] = v;
      }
      if (move < 1e-13) break;
    }
    const active = Array.from(y).filter((v) => Math.abs(v) === 1).length;
    expect(active).toBeGreaterThan(10);
    expect(active).toBeLessThan(35);
    const res = minimizeSlsqp(f, new Float64Array(n), { lower, upper, grad: (x, g) => grad(x, g) });
    expect(res.converged).toBe(true);
    // SLSQP stops when f changes by less than its ftol (1e-6), so the point is close, not exact.
    expect(f(res.x) - f(y)).toBeGreaterThanOrEqual(-1e-9);
    expect(f(res.x) - f(y)).toBeLessThan(1e-6);
    for (let i = 0; i < n; i++) expect(Math.abs(res.x[i] - y[i]), `x[${i}]`).toBeLessThan(1e-3);
    // Every variable the reference puts on a bound is on it.
    for (let i = 0; i < n; i++) if (Math.abs(y[i]) === 1) expect(res.x[i], `x[${i}]`).toBe(y[i]);
  });

  it('starts from the initial point clipped into the box and reports an iteration limit', () => {
    const f = (x: Float64Array) => (x[0] - 3) ** 2;
    const ok = minimizeSlsqp(f, [50], { lower: new Float64Array([-1]), upper: new Float64Array([2]) });
    expect(ok.x[0]).toBe(2);
    expect(ok.converged).toBe(true);
    const capped = minimizeSlsqp((x) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, [-1.2, 1], {
      lower: new Float64Array([-2, -2]),
      upper: new Float64Array([2, 2]),
      maxIter: 3,
    });
    expect(capped.converged).toBe(false);
    expect(capped.message).toMatch(/iteration limit/);
  });
});

describe('minimizeSlsqp with an analytic gradient follows scipy SLSQP with jac=', () => {
  // scipy 1.17.1, minimize(f, x0, jac=grad, method='SLSQP', bounds=...), default options.
  it('bounded Rosenbrock: same iterations, evaluations and end point as scipy', () => {
    const f = (x: Float64Array) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
    let gradCalls = 0;
    const grad = (x: Float64Array, g: Float64Array) => {
      gradCalls++;
      g[0] = -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]);
      g[1] = 200 * (x[1] - x[0] ** 2);
    };
    const r = minimizeSlsqp(f, [-1.2, 1], {
      lower: new Float64Array([-2, -2]),
      upper: new Float64Array([0.8, 2]),
      grad,
    });
    // scipy: x = [0.8, 0.6400000000000001], nit 28, nfev 35, njev 28, status 0.
    expect(r.converged).toBe(true);
    expect(r.iterations).toBe(28);
    expect(r.evaluations).toBe(35);
    expect(gradCalls).toBe(28);
    expect(r.x[0]).toBe(0.8);
    expect(Math.abs(r.x[1] - 0.6400000000000001)).toBeLessThan(1e-12);
  });

  it('three variables, two bounds active at the end: as scipy', () => {
    const f = (x: Float64Array) => (x[0] - 1) ** 2 + 10 * (x[1] - x[0] ** 2) ** 2 + Math.exp(x[2]) - x[2] + x[0] * x[2];
    const grad = (x: Float64Array, g: Float64Array) => {
      g[0] = 2 * (x[0] - 1) - 40 * x[0] * (x[1] - x[0] ** 2) + x[2];
      g[1] = 20 * (x[1] - x[0] ** 2);
      g[2] = Math.exp(x[2]) - 1 + x[0];
    };
    const r = minimizeSlsqp(f, [3, -2, 1], {
      lower: new Float64Array([-5, 0.5, -1]),
      upper: new Float64Array([5, 4, 1]),
      grad,
    });
    // scipy: x = [1.499918681041466, 2.2496440895386183, -0.9999999999999997], nit 21, nfev 24, njev 21.
    expect(r.iterations).toBe(21);
    expect(r.evaluations).toBe(24);
    const ref = [1.499918681041466, 2.2496440895386183, -0.9999999999999997];
    ref.forEach((v, i) => expect(Math.abs(r.x[i] - v), `x[${i}]`).toBeLessThan(2e-5));
  });
});

describe("optimizer 'slsqp-fd' reproduces pyhf's documented numbers", () => {
  const model = buildModel(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]));
  const data = model.observedData();

  it('best fit and fixed-POI fit (pyhf.infer.mle docstrings)', () => {
    const best = fit(model, data, { optimizer: 'slsqp-fd' });
    [0, 1.0030512, 0.96266961].forEach((v, i) => expect(Math.abs(best.pars[i] - v)).toBeLessThan(1e-7));
    expect(Math.abs(2 * best.nll - 24.98393521)).toBeLessThan(1e-8);
    const fixed = fixedPoiFit(model, data, 1, { optimizer: 'slsqp-fd' });
    [1, 0.97224597, 0.87553894].forEach((v, i) => expect(Math.abs(fixed.pars[i] - v)).toBeLessThan(1e-7));
    expect(Math.abs(2 * fixed.nll - 28.92218013)).toBeLessThan(1e-8);
  });

  it('q̃ test, its five fits and CLs (pyhf.infer.calculators.AsymptoticCalculator docstrings)', () => {
    const r = hypotest(model, 1, data, { optimizer: 'slsqp-fd' });
    expect(Math.abs(r.teststat - 0.14043184) / 0.14043184).toBeLessThan(1e-6);
    const close = (got: Float64Array, ref: number[]) =>
      ref.forEach((v, i) => expect(Math.abs(got[i] - v)).toBeLessThan(1.5e-7));
    close(r.fits.asimov, [0, 1.0030482, 0.96264534]);
    close(r.fits.freeData.pars, [0, 1.0030512, 0.96266961]);
    close(r.fits.freeAsimov.pars, [0, 1.00304893, 0.96263365]);
    close(r.fits.fixedData.pars, [1, 0.97224597, 0.87553894]);
    close(r.fits.fixedAsimov.pars, [1, 0.97276864, 0.87142047]);
    const rel = (x: number, v: number) => Math.abs(x - v) / v;
    expect(rel(r.clsbObs, 0.02332502)).toBeLessThan(1e-6);
    expect(rel(r.clbObs, 0.4441594)).toBeLessThan(1e-6);
    expect(rel(r.clsObs, 0.05251497)).toBeLessThan(1e-6);
    [0.00260626, 0.01382005, 0.06445321, 0.23525644, 0.57303621].forEach((v, i) =>
      expect(rel(r.clsExp[i], v), `exp[${i}]`).toBeLessThan(1e-6),
    );
    // The converged optimizer sits at the true optimum, 1e-4 away from these in q̃.
    const conv = hypotest(model, 1, data, { optimizer: 'lbfgsb' });
    expect(Math.abs(conv.teststat - 0.14043184) / 0.14043184).toBeGreaterThan(5e-5);
    expect(conv.fits.freeData.nll).toBeLessThanOrEqual(r.fits.freeData.nll);
  });
});

describe("optimizer 'slsqp' (analytic gradient, the scans' default) against pyhf's documented numbers", () => {
  const model = buildModel(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]));
  const data = model.observedData();

  it('its CLs agree with the numpy-backend docstrings to 1e-5 (relative); slsqp-fd is the default', () => {
    // pyhf's docstrings come from finite differences; the analytic gradient moves where SLSQP
    // stops by up to ~1e-6 in the parameters, far below the 1e-4 at which pyhf results are compared.
    const r = hypotest(model, 1, data, { optimizer: 'slsqp' });
    expect(hypotest(model, 1, data).clsObs).toBe(hypotest(model, 1, data, { optimizer: 'slsqp-fd' }).clsObs);
    expect(hypotest(model, 1, data).clsObs).not.toBe(r.clsObs);
    const rel = (x: number, v: number) => Math.abs(x - v) / v;
    expect(rel(r.clsObs, 0.05251497)).toBeLessThan(1e-5);
    [0.00260626, 0.01382005, 0.06445321, 0.23525644, 0.57303621].forEach((v, i) =>
      expect(rel(r.clsExp[i], v), `exp[${i}]`).toBeLessThan(1e-5),
    );
    // Fewer NLL evaluations than the finite-difference route (3 parameters: 4 per gradient there).
    const fd = fit(model, data, { optimizer: 'slsqp-fd' });
    const an = fit(model, data, { optimizer: 'slsqp' });
    expect(an.evaluations).toBeLessThan(fd.evaluations / 2);
    [0, 1.0030512, 0.96266961].forEach((v, i) => expect(Math.abs(an.pars[i] - v)).toBeLessThan(1e-5));
  });
});
