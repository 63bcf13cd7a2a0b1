/**
 * pyhf's asymptotic validation set (../shared/fit/pyhf-validation.json): every case is run as the file
 * describes it and compared with the file's CLs (observed and the expected band) at the file's
 * relative tolerance.
 *
 * The file's numbers are where pyhf's default fits stop, not the exact optimum: pyhf (numpy backend)
 * minimizes 2·NLL with scipy's SLSQP, forward-difference gradients and ftol 1e-6, from the suggested
 * init. Those fits end 1e-11..2e-7 above the minimum in NLL, which changes observed CLs by < 1e-6,
 * but the Asimov dataset is linear in where the μ = 0 fit stopped (parameters off by up to 1e-4),
 * which moves the expected band by up to 1.2e-4 (relative). The default optimizer 'slsqp-fd' (the
 * same algorithm, gradient and stopping rules) puts every case within the file's tolerance. 'slsqp'
 * (the same on the analytic gradient, pyhf's jax/pytorch route) stops slightly elsewhere; 'lbfgsb'
 * converges to the optimum and is checked against SLSQP's end points below (issue 16).
 *
 * The two histosys cases: the file labels histosys code4p, but its numbers were made with code0
 * (pyhf's default at the time); with code4p they are off by 1e-2 and 80×, with code0 they agree.
 */
import { describe, expect, it } from 'vitest';
import {
  buildModel,
  hypotest,
  nll,
  NllWorkspace,
  type InterpCode,
  type HypotestResult,
  type Model,
} from '../../src/fit/index.ts';
import { validationCases, type ValidationCase } from './helpers.ts';

const HISTOSYS_CODE0 = new Set(['2bin_histosys', '2bin_2channel_coupledhistosys']);

function modelOf(c: ValidationCase, histosys?: InterpCode): Model {
  const interp = {
    normsys: c.interpolation.normsys as InterpCode,
    histosys: histosys ?? (HISTOSYS_CODE0.has(c.name) ? 'code0' : (c.interpolation.histosys as InterpCode)),
  };
  return buildModel(c.workspace, { interp });
}

function relDev(r: HypotestResult, c: ValidationCase): number {
  const ours = [r.reported.obs, ...r.reported.exp];
  const ref = [c.expected.cls_obs, ...c.expected.cls_exp];
  return Math.max(...ours.map((x, i) => Math.abs(x - ref[i]) / Math.abs(ref[i])));
}

describe("pyhf validation cases with the default optimizer (slsqp-fd, pyhf's)", () => {
  const cases = validationCases();

  it('has the nine cases', () => {
    expect(cases.length).toBe(9);
  });

  for (const c of cases) {
    it(`${c.name}: within the file tolerance ${c.rel_tolerance}`, () => {
      const model = modelOf(c);
      expect(model.npars).toBe(c.parameters_expected.init_pars);
      if (c.parameters_expected.auxdata !== undefined)
        expect(model.auxDefault.length).toBe(c.parameters_expected.auxdata);
      const r = hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat });
      expect(relDev(r, c)).toBeLessThanOrEqual(c.rel_tolerance);
    });
  }

  it('the histosys cases were made with code0: code4p misses them by far', () => {
    for (const c of cases.filter((x) => HISTOSYS_CODE0.has(x.name))) {
      const model = modelOf(c, 'code4p');
      const r = hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat });
      expect(relDev(r, c), c.name).toBeGreaterThan(1e-3);
    }
  });
});

/**
 * SLSQP on the analytic gradient ('slsqp', the scan default): within the file's tolerance except
 * 1bin_normsys (3.8e-6 against 3e-6: the analytic gradient ends the μ = 0 fit at another point within
 * SLSQP's ftol), and its fits end within SLSQP's accuracy of the finite-difference route's.
 */
describe("pyhf validation cases with 'slsqp' (analytic gradient)", () => {
  const BOUND: Record<string, number> = { '1bin_normsys': 5e-6 };
  for (const c of validationCases()) {
    const bound = Math.max(c.rel_tolerance, BOUND[c.name] ?? 0);
    it(`${c.name}: within ${bound} of the file`, () => {
      const model = modelOf(c);
      const data = model.observedData();
      const an = hypotest(model, c.poi_test, data, { testStat: c.test_stat, optimizer: 'slsqp' });
      const fd = hypotest(model, c.poi_test, data, { testStat: c.test_stat, optimizer: 'slsqp-fd' });
      expect(relDev(an, c)).toBeLessThanOrEqual(bound);
      // scipy's ftol bounds the last step's change of 2·NLL by 1e-6.
      expect(Math.abs(an.fits.freeData.nll - fd.fits.freeData.nll)).toBeLessThan(1e-6);
      expect(Math.abs(an.fits.fixedData.nll - fd.fits.fixedData.nll)).toBeLessThan(1e-6);
    });
  }
});

/**
 * 'lbfgsb' (L-BFGS-B on the analytic gradient, converged) against SLSQP on the same cases: it must
 * reach an NLL at least as low in every fit (it converges; SLSQP stops early), the two agree on the
 * minimum to < 1e-6 in NLL, and its CLs stay within the bound that SLSQP's early stop explains.
 */
describe("pyhf validation cases with 'lbfgsb'", () => {
  // Largest deviation from the file of the converged fits, over all cases (1bin_shapesys_q0: 3.3e-4,
  // 2bin_2channel_couplednorm: 1.2e-4, the others 2e-5..6e-5).
  const BOUND: Record<string, number> = { '1bin_shapesys_q0': 4e-4, '2bin_2channel_couplednorm': 1.5e-4 };
  for (const c of validationCases()) {
    it(`${c.name}: fits reach SLSQP's optimum or lower; CLs within ${BOUND[c.name] ?? 8e-5} of the file`, () => {
      const model = modelOf(c);
      const data = model.observedData();
      const conv = hypotest(model, c.poi_test, data, { testStat: c.test_stat, optimizer: 'lbfgsb' });
      const slsqp = hypotest(model, c.poi_test, data, { testStat: c.test_stat, optimizer: 'slsqp-fd' });
      const ws = new NllWorkspace(model);
      const pairs: [number, number, string][] = [
        [conv.fits.freeData.nll, slsqp.fits.freeData.nll, 'free fit'],
        [conv.fits.fixedData.nll, slsqp.fits.fixedData.nll, 'fixed-POI fit'],
        [nll(ws, data, conv.fits.asimov), nll(ws, data, slsqp.fits.asimov), 'Asimov-generating fit'],
      ];
      for (const [ours, theirs, what] of pairs) {
        expect(ours, what).toBeLessThanOrEqual(theirs + 1e-10);
        expect(theirs - ours, what).toBeLessThan(1e-6);
      }
      expect(relDev(conv, c)).toBeLessThanOrEqual(BOUND[c.name] ?? 8e-5);
    });
  }
});
