import { describe, expect, it } from 'vitest';
import {
  buildModel,
  fit,
  fitWithErrors,
  hypotest,
  upperLimit,
  normalCdf,
  type WorkspaceSpec,
} from '../../src/fit/index.ts';

/** One bin, s·μ + b with b known exactly: μ̂ = (n − b)/s, σ(μ̂) = √n / s. */
function counting(n: number, s = 10, b = 50): WorkspaceSpec {
  return {
    version: '1.0.0',
    channels: [
      {
        name: 'c',
        samples: [
          { name: 's', data: [s], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
          { name: 'b', data: [b], modifiers: [] },
        ],
      },
    ],
    observations: [{ name: 'c', data: [n] }],
    measurements: [{ name: 'm', config: { poi: 'mu', parameters: [{ name: 'mu', bounds: [[-5, 10]] }] } }],
  };
}

// Closed forms and ROOT's converged fits are exact optima: these use 'lbfgsb' (the default, pyhf's
// SLSQP, stops ~1e-3σ short of the optimum by design).
describe('fits', () => {
  it('find the analytic optimum and its uncertainty', () => {
    const m = buildModel(counting(70));
    const r = fitWithErrors(m, m.observedData(), { optimizer: 'lbfgsb' });
    expect(r.pars[0]).toBeCloseTo(2, 7);
    expect(r.errors[0]).toBeCloseTo(Math.sqrt(70) / 10, 4);
    expect(r.correlation[0]).toBe(1);
  });

  it('stop on a bound when the optimum is outside', () => {
    const m = buildModel(counting(30));
    const r = fit(m, m.observedData(), { lower: Float64Array.of(0), upper: Float64Array.of(10), optimizer: 'lbfgsb' });
    expect(r.pars[0]).toBe(0);
    expect(r.converged).toBe(true);
  });
});

describe('asymptotic CLs', () => {
  it('matches the closed form of a counting experiment (q_mu)', () => {
    const n = 55;
    const m = buildModel(counting(n));
    const r = hypotest(m, 1, m.observedData(), { testStat: 'q', optimizer: 'lbfgsb' });
    // q = 2[(λ1 − n ln λ1) − (n − n ln n)] with λ1 = 60, qA from the Asimov n = 50.
    const q = 2 * (60 - n * Math.log(60) - (n - n * Math.log(n)));
    const qA = 2 * (60 - 50 * Math.log(60) - (50 - 50 * Math.log(50)));
    expect(r.q).toBeCloseTo(q, 8);
    expect(r.qA).toBeCloseTo(qA, 8);
    const sq = Math.sqrt(q);
    const sqA = Math.sqrt(qA);
    const clsb = normalCdf(-sq);
    const clb = normalCdf(sqA - sq);
    expect(r.clsObs).toBeCloseTo(clsb / clb, 9);
    expect(r.clsExp[2]).toBeCloseTo(normalCdf(-sqA) / 0.5, 9);
    for (let i = 1; i < 5; i++) expect(r.clsExp[i]).toBeGreaterThan(r.clsExp[i - 1]);
  });

  it('reports the discovery p-value for q0', () => {
    const m = buildModel(counting(80));
    const r = hypotest(m, 0, m.observedData(), { testStat: 'q0', optimizer: 'lbfgsb' });
    const q0 = 2 * (50 - 80 * Math.log(50) - (80 - 80 * Math.log(80)));
    expect(r.q).toBeCloseTo(q0, 8);
    expect(r.reported.obs).toBeCloseTo(normalCdf(-Math.sqrt(q0)), 10);
  });

  it('finds upper limits where CLs crosses the level', () => {
    const m = buildModel(counting(52));
    const ul = upperLimit(m, m.observedData(), { range: [0, 10] });
    const at = hypotest(m, ul.obs);
    expect(at.clsObs).toBeCloseTo(0.05, 5);
    for (let i = 0; i < 5; i++) expect(hypotest(m, ul.exp[i]).clsExp[i]).toBeCloseTo(0.05, 5);
    for (let i = 1; i < 5; i++) expect(ul.exp[i]).toBeGreaterThan(ul.exp[i - 1]);
  });
});

describe('ROOT HistFactory reference', () => {
  it('matches the CLs ROOT gives for a shapesys workspace with a zero-uncertainty bin (qtilde, code4/code4p)', () => {
    // Workspace and ROOT's numbers as quoted in pyhf's test suite (test_shapesys_nuisparfilter_validation).
    const spec: WorkspaceSpec = {
      version: '1.0.0',
      channels: [
        {
          name: 'channel1',
          samples: [
            { name: 'signal', data: [20, 10], modifiers: [{ name: 'SigXsecOverSM', type: 'normfactor', data: null }] },
            { name: 'background1', data: [100, 10], modifiers: [{ name: 'syst', type: 'shapesys', data: [10, 0] }] },
          ],
        },
      ],
      observations: [{ name: 'channel1', data: [100, 10] }],
      measurements: [
        {
          name: 'GaussExample',
          config: {
            poi: 'SigXsecOverSM',
            parameters: [{ name: 'lumi', auxdata: [1], bounds: [[0.5, 1.5]], inits: [1], sigmas: [0.1] }],
          },
        },
      ],
    };
    const root = {
      obs: 0.004360634405484502,
      exp: [
        2.702197937866914e-5, 0.00037099917612576155, 0.004360634386335687, 0.03815031509701916, 0.20203027564155074,
      ],
    };
    const r = hypotest(buildModel(spec), 1.0, undefined, { optimizer: 'lbfgsb' });
    expect(Math.abs(r.clsObs - root.obs) / root.obs).toBeLessThan(1e-7);
    r.clsExp.forEach((v, i) => expect(Math.abs(v - root.exp[i]) / root.exp[i]).toBeLessThan(1e-7));
  });
});
