/**
 * A workspace with negative expected rates never gives NaN as a result: at the nominal point it is an
 * InvalidLikelihoodError naming the channel, bin, sample and JSON path (cls, limit, mle, scan); valid at
 * nominal but negative away from it, the rate is clipped to 0 (pyhf's clip_bin_data=0) and the best fit
 * says so. Before the fix cls printed `μ̂ = NaN`, `CLs observed: NaN` and a band of 1.0 with exit 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFitCommands } from '../../src/fit/cli.ts';
import {
  asimovData,
  buildModel,
  fit,
  FitConvergenceError,
  hypotest,
  InvalidLikelihoodError,
  nll,
  NllWorkspace,
  scan,
} from '../../src/fit/index.ts';
import type { WorkspaceSpec } from '../../src/fit/spec.ts';
import { captureOutput, jsonLines } from '../helpers/cli.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ristretto-neg-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
  const program = new Command('ristretto').exitOverride();
  registerFitCommands(program);
  return captureOutput(() => program.parseAsync(['node', 'ristretto', ...args]));
}

/** signal [2, 1] × mu; background with the probe's data [-5, 3]: bin 0 expects 2 − 5 = −3 at nominal. */
const negative: WorkspaceSpec = {
  version: '1.0.0',
  channels: [
    {
      name: 'SR',
      samples: [
        { name: 'signal', data: [2, 1], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
        { name: 'bkg', data: [-5, 3], modifiers: [{ name: 'unc', type: 'shapesys', data: [1, 1] }] },
      ],
    },
  ],
  observations: [{ name: 'SR', data: [4, 5] }],
  measurements: [{ name: 'm', config: { poi: 'mu', parameters: [] } }],
};

const WHERE = /channel SR bin 0: expected rate -3 < 0; negative: sample bkg -5 \(\/channels\/0\/samples\/1\/data\/0\)/;

describe('negative expected rates', () => {
  it('cls, cls --json, limit and mle: a one-line error naming channel, bin, sample and JSON path; exit 1, no NaN', async () => {
    const file = join(dir, 'negative.json');
    writeFileSync(file, JSON.stringify(negative));
    for (const args of [
      ['cls', file],
      ['cls', file, '--json'],
      ['cls', file, '--test-stat', 'q0'],
      ['limit', file],
      ['mle', file, '--json'],
      ['mle', file, '--optimizer', 'lbfgsb'],
    ]) {
      const r = await run(['fit', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.out, args.join(' ')).toBe('');
      expect(r.err).toMatch(/^ristretto fit: the likelihood is not finite at the nominal parameters: /);
      expect(r.err).toMatch(WHERE);
      expect(r.err).toMatch(/— a Poisson rate must be positive: fix the yields/);
      expect(r.err).not.toMatch(/NaN/);
    }
  });

  it('in a scan, a patch that makes a rate negative is that patch’s error and the others are tested', async () => {
    const bkg: WorkspaceSpec = {
      ...negative,
      channels: [{ name: 'SR', samples: [{ name: 'bkg', data: [5, 3], modifiers: [] }] }],
    };
    const add = (sig: number[]) => [
      {
        op: 'add',
        path: '/channels/0/samples/0',
        value: { name: 'signal', data: sig, modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
      },
    ];
    const summary = await scan(
      bkg,
      [
        { name: 'good_1', values: [1], patch: add([2, 1]) },
        { name: 'bad_2', values: [2], patch: add([-7, 1]) },
      ] as never,
      {},
    );
    const bad = summary.results.find((r) => r.name === 'bad_2');
    expect(bad?.ok).toBe(false);
    expect(bad && !bad.ok && bad.error).toMatch(/channel SR bin 0: expected rate -2 < 0; negative: sample signal -7/);
    const good = summary.results.find((r) => r.name === 'good_1');
    expect(good?.ok).toBe(true);
  });

  it('a start away from nominal with a negative rate where events are observed names the parameter values', () => {
    // histosys with lo_data [-4] (code0: linear): at shape = −1 the background is −4, the total −3, and 4 events were seen.
    const spec: WorkspaceSpec = {
      ...negative,
      channels: [
        {
          name: 'SR',
          samples: [
            { name: 'signal', data: [1], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
            {
              name: 'bkg',
              data: [5],
              modifiers: [{ name: 'shape', type: 'histosys', data: { lo_data: [-4], hi_data: [14] } }],
            },
          ],
        },
      ],
      observations: [{ name: 'SR', data: [4] }],
    };
    const model = buildModel(spec, { interp: { histosys: 'code0' } });
    const init = model.suggestedInit();
    init[model.parIndex('shape')] = -1;
    let err: unknown;
    try {
      fit(model, model.observedData(), { init });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidLikelihoodError);
    expect((err as Error).message).toMatch(
      /not finite at the starting values \(shape=-1\.000\): channel SR bin 0: expected rate -3 < 0; negative: sample bkg -4 /,
    );
    expect((err as Error).message).toMatch(/narrow those parameters' bounds/);
  });

  it('valid at nominal, the fit runs into a negative rate: clipped to 0, the optimum found, a warning', async () => {
    // Bin 0: λ0 = μ + 5 + 9α (code0, α < 0), nothing observed; bin 1: λ1 = μ + 5, 6 observed; α ~ N(0, 1).
    // NLL wants λ0 → 0, so the optimum lies on λ0 = 0: α = −L/9 with L = μ + 5, and
    // NLL(L) = L − 6 ln L + L²/162 + const, minimal at L² + 81 L − 486 = 0: L = 5.61127845, μ̂ = 0.61127845,
    // 2·NLL = 5.9103150 (with ln 6! and ln √(2π)). pyhf without clipping gives NaN there.
    const spec: WorkspaceSpec = {
      ...negative,
      channels: [
        {
          name: 'SR',
          samples: [
            { name: 'signal', data: [1, 1], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
            {
              name: 'bkg',
              data: [5, 5],
              modifiers: [{ name: 'shape', type: 'histosys', data: { lo_data: [-4, 5], hi_data: [14, 5] } }],
            },
          ],
        },
      ],
      observations: [{ name: 'SR', data: [0, 6] }],
    };
    const L = (-81 + Math.sqrt(81 * 81 + 4 * 486)) / 2;
    const twiceNllRef = 2 * (L - 6 * Math.log(L) + (L * L) / 162 + Math.log(720) + 0.5 * Math.log(2 * Math.PI));
    const model = buildModel(spec, { interp: { histosys: 'code0' } });
    for (const optimizer of ['slsqp-fd', 'slsqp', 'lbfgsb'] as const) {
      let r: ReturnType<typeof fit>;
      try {
        r = fit(model, model.observedData(), { optimizer });
      } catch (e) {
        // L-BFGS-B assumes a smooth objective; on the kink it may stop and say so — never a wrong number.
        expect(optimizer).toBe('lbfgsb');
        expect(e).toBeInstanceOf(FitConvergenceError);
        continue;
      }
      expect(2 * r.nll - twiceNllRef, optimizer).toBeGreaterThan(-1e-9);
      expect(2 * r.nll - twiceNllRef, optimizer).toBeLessThan(1e-3);
      expect(r.pars[model.poiIndex], optimizer).toBeCloseTo(L - 5, 1);
    }
    // The clipped likelihood is flat below zero: a point with λ0 < 0 costs what λ0 = 0 costs.
    const ws = new NllWorkspace(model);
    const p = new Float64Array(2);
    p[model.parIndex('mu')] = L - 5;
    p[model.parIndex('shape')] = -L / 9;
    const atZero = nll(ws, model.observedData(), p);
    expect(2 * atZero).toBeCloseTo(twiceNllRef, 9);

    // The Asimov data of a fit that ended clipped expect 0 there, not a negative count (whose log-Γ
    // was NaN: "the fit ended at non-finite parameter values" in cls and limit).
    const h = hypotest(model, 1);
    for (const v of [h.clsObs, ...h.clsExp]) expect(v > 0 && v <= 1, String(v)).toBe(true);
    expect(asimovData(model, model.observedData(), 0).data.main.every((x) => x >= 0)).toBe(true);
    const file = join(dir, 'wander.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = await run(['fit', 'mle', file, '--interp', 'histosys=code0', '--json']);
    expect(r.code).toBeUndefined();
    const out = jsonLines(r.out)[0] as { values: number[]; warnings?: string[] };
    expect(out.values.every(Number.isFinite)).toBe(true);
    if (out.warnings) expect(out.warnings[0]).toMatch(/clipped to 0 as pyhf's clip_bin_data=0 does: channel SR bin 0/);
  });
});

describe('fit limit never prints NaN', () => {
  it('a limit beyond the POI bounds is "> upper bound" with a note, null in --json', async () => {
    // s = 0.5 μ on b = 50 ± 7 with 55 observed: excluding needs s ≳ 2 × √(7² + 50) ≈ 20, μ ≈ 40 ≫ 10.
    const spec: WorkspaceSpec = {
      ...negative,
      channels: [
        {
          name: 'SR',
          samples: [
            { name: 'signal', data: [0.5], modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
            { name: 'bkg', data: [50], modifiers: [{ name: 'unc', type: 'shapesys', data: [7] }] },
          ],
        },
      ],
      observations: [{ name: 'SR', data: [55] }],
    };
    const file = join(dir, 'weak.json');
    writeFileSync(file, JSON.stringify(spec));
    const r = await run(['fit', 'limit', file]);
    expect(r.code).toBeUndefined();
    expect(r.out).not.toMatch(/NaN/);
    expect(r.out).toMatch(
      /observed > 10\.0000\nexpected .*: > 10\.0000, > 10\.0000, > 10\.0000, > 10\.0000, > 10\.0000\n$/,
    );
    expect(r.err).toMatch(/^note: a limit shown as > 10\.0000 is not reached inside the bounds of mu .* widen them/);
    const j = await run(['fit', 'limit', file, '--json']);
    expect(JSON.parse(j.out)).toMatchObject({ obs: null, poi_upper_bound: 10 });
  });
});
