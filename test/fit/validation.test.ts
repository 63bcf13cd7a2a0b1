/**
 * pyhf's asymptotic validation set (../shared/fit/pyhf-validation.json): every case is run as the file
 * describes it and compared with the file's CLs (observed and the expected band) at the file's
 * relative tolerance.
 *
 * Where we do not reach that tolerance, the case is listed in KNOWN_DEVIATIONS with the bound we do
 * reach and why (see the report of issue 16): the file's numbers come from a pyhf release whose
 * scipy SLSQP fits (finite-difference gradients, default ftol) stop ~1e-5 away from the optimum in CLs;
 * the same cases in pyhf's earlier validation, and ROOT's reference for the shapesys case, agree with
 * ours to 1e-8..1e-6. The file also labels histosys code4p, but its histosys numbers were made with
 * code0 (pyhf's default at the time): those two cases are run with code0.
 */
import { describe, expect, it } from 'vitest';
import { buildModel, hypotest, normalCdf, type InterpCode } from '../../src/fit/index.ts';
import { validationCases } from './helpers.ts';

interface Known {
  /** Relative deviation we stay within (observed and every expected value). */
  bound: number;
  why: string;
  histosys?: InterpCode;
}

const OPTIMIZER_NOISE = "the file's pyhf values carry SLSQP convergence noise above the stated tolerance";
const KNOWN_DEVIATIONS: Record<string, Known> = {
  '1bin_shapesys': { bound: 5e-5, why: OPTIMIZER_NOISE },
  '1bin_shapesys_q0': { bound: 5e-4, why: OPTIMIZER_NOISE },
  '1bin_lumi': { bound: 6e-5, why: OPTIMIZER_NOISE },
  '1bin_normsys': { bound: 5e-5, why: OPTIMIZER_NOISE },
  '2bin_histosys': { bound: 8e-5, why: 'values made with histosys code0 (the file says code4p); within the file tolerance then', histosys: 'code0' },
  '2bin_2channel': { bound: 3e-5, why: OPTIMIZER_NOISE },
  '2bin_2channel_couplednorm': { bound: 2e-4, why: OPTIMIZER_NOISE },
  '2bin_2channel_coupledhistosys': { bound: 5e-5, why: `values made with histosys code0 (the file says code4p); ${OPTIMIZER_NOISE}`, histosys: 'code0' },
};

function relDev(ours: number[], ref: number[]): number {
  return Math.max(...ours.map((x, i) => Math.abs(x - ref[i]!) / Math.abs(ref[i]!)));
}

describe('pyhf validation cases', () => {
  const cases = validationCases();

  it('has the nine cases', () => {
    expect(cases.length).toBe(9);
  });

  for (const c of cases) {
    const known = KNOWN_DEVIATIONS[c.name];
    const title = known
      ? `${c.name}: within ${known.bound} (file tolerance ${c.rel_tolerance} not met: ${known.why})`
      : `${c.name}: within the file tolerance ${c.rel_tolerance}`;
    it(title, () => {
      const interp = { ...c.interpolation, ...(known?.histosys ? { histosys: known.histosys } : {}) } as { normsys: InterpCode; histosys: InterpCode };
      const model = buildModel(c.workspace, { interp });
      expect(model.npars).toBe(c.parameters_expected.init_pars);
      if (c.parameters_expected.auxdata !== undefined) expect(model.auxDefault.length).toBe(c.parameters_expected.auxdata);
      const r = hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat });
      const dev = relDev([r.reported.obs, ...r.reported.exp], [c.expected.cls_obs, ...c.expected.cls_exp]);
      expect(dev).toBeLessThanOrEqual(known ? known.bound : c.rel_tolerance);
    });
  }
});

/**
 * Where the expected band misses the file's tolerance, is that a convention (Asimov data, bounds,
 * inits) or optimizer noise? For q_μ (the file's eight CLs cases) the asymptotic expected CLs at nσ is Φ(n − √q_A)/Φ(n), so a change
 * δ in √q_A alone moves each value by −δ·φ(n − √q_A)/Φ(n − √q_A) (relative): a fixed, steep shape
 * across the band. Fitting δ to the median and predicting the other four leaves residuals at the
 * file's print precision in every case, with δ of either sign (5e-6…4e-5): the whole expected-band
 * deviation is one slightly different Asimov fit per case (ΔNLL ~1e-5, SLSQP's ftol), not a convention
 * that would shift every case the same way.
 */
describe('pyhf validation: the expected-band deviation is one √q_A offset per case', () => {
  const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  // Two −2σ entries of the file do not follow their own band (see the residual bound below).
  const OFF_BAND: Record<string, number> = { '2bin_histosys': 1e-4, '2bin_2channel_couplednorm': 1e-6 };
  for (const c of validationCases().filter((c) => c.test_stat !== 'q0')) {
    it(c.name, () => {
      const known = KNOWN_DEVIATIONS[c.name];
      const interp = { ...c.interpolation, ...(known?.histosys ? { histosys: known.histosys } : {}) } as { normsys: InterpCode; histosys: InterpCode };
      const model = buildModel(c.workspace, { interp });
      const ours = hypotest(model, c.poi_test, model.observedData(), { testStat: c.test_stat }).reported.exp;
      // √q_A from our median, CLs(0) = Φ(−√q_A)/Φ(0), by bisection.
      let lo = 0;
      let hi = 40;
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (normalCdf(-mid) / 0.5 > ours[2]!) lo = mid;
        else hi = mid;
      }
      const a = (lo + hi) / 2;
      const mills = (n: number) => phi(n - a) / normalCdf(n - a);
      const rel = ours.map((x, i) => (x - c.expected.cls_exp[i]!) / c.expected.cls_exp[i]!);
      const delta = -rel[2]! / mills(0);
      expect(Math.abs(delta)).toBeLessThan(5e-5);
      [-2, -1, 0, 1, 2].forEach((n, i) => {
        const bound = i === 0 && OFF_BAND[c.name] !== undefined ? OFF_BAND[c.name]! : 1e-8;
        expect(Math.abs(rel[i]! + delta * mills(n)), `${n}σ`).toBeLessThan(bound);
      });
    });
  }
});
