import { describe, expect, it } from 'vitest';
import {
  buildModel,
  FitConvergenceError,
  fit,
  hypotest,
  nll,
  NllWorkspace,
  scanPatches,
  uncorrelatedBackground,
  type NamedPatch,
} from '../../src/fit/index.ts';

describe('per-patch scan', () => {
  it('yields a result per patch and an error for the one that fails, without stopping', () => {
    const bkg = uncorrelatedBackground([0, 0], [50, 52], [3, 7], [51, 48]);
    const patches: NamedPatch[] = [
      { name: 'sig_5', values: [5], patch: [{ op: 'replace', path: '/channels/0/samples/0/data', value: [5, 4] }] },
      { name: 'broken', values: [0], patch: [{ op: 'replace', path: '/channels/3/samples/0/data', value: [1, 1] }] },
      { name: 'nan', values: [0], patch: [{ op: 'replace', path: '/observations/0/data', value: [51, -1] }] },
      { name: 'sig_20', values: [20], patch: [{ op: 'replace', path: '/channels/0/samples/0/data', value: [20, 15] }] },
    ];
    const out = [...scanPatches(bkg, patches)];
    expect(out.map((r) => [r.name, r.ok])).toEqual([
      ['sig_5', true],
      ['broken', false],
      ['nan', false],
      ['sig_20', true],
    ]);
    const [a, b, c, d] = out;
    if (!a.ok || !d.ok || b.ok || c.ok) throw new Error('unexpected');
    expect(d.clsObs).toBeLessThan(a.clsObs);
    expect(b.error).toMatch(/broken.*operation 0 at \/channels\/3\/samples\/0\/data/);
    expect(c.error).toMatch(/at \/observations\/0\/data\/1: observed counts must not be negative/);
  });
});

describe('non-convergence', () => {
  it('is a FitConvergenceError that says what to do', () => {
    const m = buildModel(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]));
    expect(() => fit(m, m.observedData(), { maxIter: 1 })).toThrow(FitConvergenceError);
    expect(() => fit(m, m.observedData(), { maxIter: 1 })).toThrow(
      /did not converge.*try other initial values or bounds/,
    );
    const loose = fit(m, m.observedData(), { maxIter: 1, strict: false });
    expect(loose.converged).toBe(false);
  });
});

describe('pyhf documentation example (uncorrelated background, qtilde, mu = 1)', () => {
  it('reaches a lower NLL than the optimum pyhf documents and agrees with its CLs to 1e-4', () => {
    const m = buildModel(uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]));
    // The converged optimizer (the default, pyhf's SLSQP, stops where pyhf's docstring stops).
    const r = hypotest(m, 1.0, m.observedData(), { optimizer: 'lbfgsb' });
    // pyhf's docstring: CLs 0.05251497 with expected band 0.00260626 … 0.57303621, free fit to data
    // at (0, 1.0030512, 0.96266961).
    expect(Math.abs(r.clsObs - 0.05251497) / 0.05251497).toBeLessThan(1e-4);
    expect(Math.abs(r.clsExp[0] - 0.00260626) / 0.00260626).toBeLessThan(1e-4);
    expect(Math.abs(r.clsExp[4] - 0.57303621) / 0.57303621).toBeLessThan(1e-4);
    const ws = new NllWorkspace(m);
    expect(r.fits.freeData.nll).toBeLessThanOrEqual(
      nll(ws, m.observedData(), Float64Array.of(0, 1.0030512, 0.96266961)),
    );
  });
});
