import { describe, expect, it } from 'vitest';
import {
  buildModel,
  INTERP_CODES,
  nll,
  NllWorkspace,
  WorkspaceError,
  expectedData,
  type WorkspaceSpec,
} from '../../src/fit/index.ts';
import { interpolate, makeInterpTable } from '../../src/fit/interpolation.ts';
import { validationCases } from './helpers.ts';

function simple(): WorkspaceSpec {
  return {
    version: '1.0.0',
    channels: [
      {
        name: 'sr',
        samples: [
          { name: 'sig', data: [5, 8], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
          {
            name: 'bkg',
            data: [50, 40],
            modifiers: [
              { name: 'unc', type: 'shapesys', data: [7, 0] },
              { name: 'jes', type: 'histosys', data: { hi_data: [55, 42], lo_data: [46, 39] } },
              { name: 'xs', type: 'normsys', data: { hi: 1.1, lo: 0.85 } },
              { name: 'lumi', type: 'lumi', data: null },
              { name: 'stat_sr', type: 'staterror', data: [2, 3] },
            ],
          },
          {
            name: 'other',
            data: [10, 0],
            modifiers: [
              { name: 'stat_sr', type: 'staterror', data: [1, 0] },
              { name: 'lumi', type: 'lumi', data: null },
            ],
          },
        ],
      },
      {
        name: 'cr',
        samples: [
          {
            name: 'bkg',
            data: [100],
            modifiers: [
              { name: 'jes', type: 'histosys', data: { hi_data: [104], lo_data: [97] } },
              { name: 'sf', type: 'shapefactor', data: null },
            ],
          },
        ],
      },
    ],
    observations: [
      { name: 'sr', data: [60, 45] },
      { name: 'cr', data: [103] },
    ],
    measurements: [
      {
        name: 'm',
        config: {
          poi: 'mu',
          parameters: [{ name: 'lumi', auxdata: [1], sigmas: [0.02], bounds: [[0.5, 1.5]], inits: [1] }],
        },
      },
    ],
  };
}

describe('model layout as pyhf', () => {
  it('orders channels and samples by name and parameters by modifier type', () => {
    const m = buildModel(simple());
    expect(m.channels.map((c) => c.name)).toEqual(['cr', 'sr']);
    expect(Array.from(m.observed)).toEqual([103, 60, 45]);
    expect(m.parNames()).toEqual(['jes', 'lumi', 'mu', 'xs', 'sf[0]', 'unc[0]', 'unc[1]', 'stat_sr[0]', 'stat_sr[1]']);
    expect(m.poiIndex).toBe(2);
    // shapesys: τ = (nominal / uncertainty)², a bin without uncertainty is fixed.
    const unc = m.parSets.find((s) => s.name === 'unc')!;
    expect(unc.factors[0]).toBeCloseTo((50 / 7) ** 2, 12);
    expect(unc.fixed).toEqual([false, true]);
    // staterror: √Σδ² / Σν over the samples sharing it.
    const stat = m.parSets.find((s) => s.name === 'stat_sr')!;
    expect(stat.sigmas[0]).toBeCloseTo(Math.sqrt(4 + 1) / 60, 14);
    expect(stat.sigmas[1]).toBeCloseTo(3 / 40, 14);
    expect(m.parSets.find((s) => s.name === 'lumi')!.bounds).toEqual([[0.5, 1.5]]);
  });

  it('has the parameter counts the validation file expects', () => {
    for (const c of validationCases()) {
      const m = buildModel(c.workspace, { interp: c.interpolation as never });
      expect(m.suggestedInit().length, c.name).toBe(c.parameters_expected.init_pars);
    }
  });

  it('gives the expected rates at the nominal point', () => {
    const m = buildModel(simple());
    const e = expectedData(m, m.suggestedInit());
    expect(Array.from(e.main)).toEqual([100, 65, 48]);
  });
});

describe('NLL gradient', () => {
  for (const code of INTERP_CODES) {
    it(`matches central differences with ${code}`, () => {
      const m = buildModel(simple(), { interp: { normsys: code, histosys: code } });
      const ws = new NllWorkspace(m);
      const d = m.observedData();
      for (const shift of [0.3, -1.7, 1.4]) {
        const x = m.suggestedInit();
        for (let i = 0; i < x.length; i++) x[i] += shift * 0.1 * Math.cos(3 * i + 1) + (i === 0 ? shift : 0);
        const g = new Float64Array(m.npars);
        nll(ws, d, x, g);
        for (let i = 0; i < x.length; i++) {
          const h = 1e-6;
          const xp = x.slice();
          const xm = x.slice();
          xp[i] += h;
          xm[i] -= h;
          const fd = (nll(ws, d, xp) - nll(ws, d, xm)) / (2 * h);
          expect(Math.abs(fd - g[i]), `${m.parNames()[i]} at shift ${shift}`).toBeLessThan(
            1e-5 * Math.max(1, Math.abs(g[i])),
          );
        }
      }
    });
  }

  it('is finite where a normfactor sits at zero and still has the POI derivative', () => {
    const m = buildModel(simple());
    const x = m.suggestedInit();
    x[m.poiIndex] = 0;
    const g = new Float64Array(m.npars);
    const f = nll(new NllWorkspace(m), m.observedData(), x, g);
    expect(Number.isFinite(f)).toBe(true);
    // dNLL/dμ = Σ_b (1 − n_b/λ_b) s_b
    const lam = expectedData(m, x).main;
    const expected = (1 - 60 / lam[1]) * 5 + (1 - 45 / lam[2]) * 8;
    expect(g[m.poiIndex]).toBeCloseTo(expected, 10);
  });
});

describe('interpolation codes', () => {
  it('are continuous at ±1 and code 4 meets the exponential there', () => {
    for (const code of INTERP_CODES) {
      const t = makeInterpTable(code, [0.8], [1], [1.3]);
      const v = new Float64Array(1);
      const d = new Float64Array(1);
      for (const a of [-1, 1]) {
        interpolate(t, a - 1e-9, 'factor', v, d, 0);
        const left = v[0];
        interpolate(t, a + 1e-9, 'factor', v, d, 0);
        expect(Math.abs(v[0] - left), `${code} at ${a}`).toBeLessThan(1e-7);
      }
    }
    const t4 = makeInterpTable('code4', [0.8], [1], [1.3]);
    const v = new Float64Array(1);
    const d = new Float64Array(1);
    interpolate(t4, 0.999999999, 'factor', v, d, 0);
    expect(v[0]).toBeCloseTo(1.3, 7);
    expect(d[0]).toBeCloseTo(1.3 * Math.log(1.3), 6);
    interpolate(t4, 0, 'factor', v, d, 0);
    expect(v[0]).toBe(1);
  });
});

describe('bad input is refused with the JSON path', () => {
  const cases: [string, (w: WorkspaceSpec) => void, RegExp][] = [
    ['NaN data', (w) => ((w.observations[0].data[1] as number) = NaN), /observations\/0\/data\/1: .*finite/],
    [
      'negative data',
      (w) => (w.observations[1].data[0] = -3),
      /observations\/1\/data\/0: observed counts must not be negative/,
    ],
    ['an empty channel', (w) => (w.channels[1].samples = []), /channels\/1\/samples: channel "cr" has no sample/],
    [
      'an unknown modifier',
      (w) => ((w.channels[0].samples[0].modifiers[0] as { type: string }).type = 'magic'),
      /modifiers\/0\/type: unknown modifier type "magic"/,
    ],
    [
      'a POI that does not exist',
      (w) => (w.measurements[0].config.poi = 'nope'),
      /config\/poi: the POI "nope" is not a parameter/,
    ],
    ['a missing observation', (w) => w.observations.pop(), /no observation for channel "cr"/],
    ['mismatched bins', (w) => w.channels[0].samples[1].data.push(1), /samples\/1\/data: sample "bkg" has 3 bins/],
  ];
  for (const [what, mutate, message] of cases) {
    it(what, () => {
      const w = simple();
      mutate(w);
      expect(() => buildModel(w)).toThrow(WorkspaceError);
      expect(() => buildModel(w)).toThrow(message);
    });
  }

  it('schema errors name the path too', () => {
    const w = simple() as unknown as { channels: { samples: { modifiers: { data: unknown }[] }[] }[] };
    w.channels[0].samples[1].modifiers[2].data = { hi: 1.1 };
    expect(() => buildModel(w as unknown as WorkspaceSpec)).toThrow(
      /normsys data must be \{hi, lo\}|samples\/1\/modifiers\/2\/data/,
    );
  });
});
