/**
 * The NLL workspace keeps interpolation results and partial sums between evaluations (so a
 * finite-difference gradient re-evaluates only the moved parameter). Reusing one workspace must give
 * exactly — to the bit — what a fresh workspace gives at every point, however the parameters move.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel, loadWorkspace, nll, NllWorkspace, type Model } from '../../src/fit/index.ts';
import { twiceNllPyhfOrder } from '../../src/fit/nll.ts';
import { rng } from '../helpers/rng.ts';
import { extractAtlas, removeDir, validationCases } from './helpers.ts';

let dir = '';
beforeAll(() => {
  dir = extractAtlas();
});
afterAll(() => removeDir(dir));

/** A walk through parameter space: one parameter moved at a time, several at once, back, and ±0. */
function walk(model: Model, seed: number, steps: number): Float64Array[] {
  const r = rng(seed);
  const { lower, upper } = model.suggestedBounds();
  const x = model.suggestedInit();
  const out: Float64Array[] = [x.slice()];
  const inside = (i: number, v: number) => Math.min(upper[i], Math.max(lower[i], v));
  for (let step = 0; step < steps; step++) {
    const kind = step % 4;
    if (kind === 0) {
      const i = Math.floor(r() * x.length);
      x[i] = inside(i, x[i] + (r() - 0.5) * 0.2);
    } else if (kind === 1) {
      for (let i = 0; i < x.length; i++) if (r() < 0.5) x[i] = inside(i, x[i] + (r() - 0.5) * 0.5);
    } else if (kind === 2) {
      // A forward-difference sweep: each parameter moved by 1e-8 and back.
      for (let i = 0; i < x.length; i++) {
        const xi = x[i];
        x[i] = xi + 1e-8;
        out.push(x.slice());
        x[i] = xi;
      }
    } else {
      // Interpolation codes switch branches at α = 0 and ±1: land exactly on them, from either side, and on −0.
      const i = Math.floor(r() * x.length);
      const at = [0, -0, 1, -1][Math.floor(r() * 4)];
      if (at >= lower[i] && at <= upper[i]) x[i] = at;
    }
    out.push(x.slice());
  }
  return out;
}

function expectSameAsFresh(model: Model, seed: number, steps: number): void {
  const data = model.observedData();
  const reused = new NllWorkspace(model);
  const g1 = new Float64Array(model.npars);
  const g2 = new Float64Array(model.npars);
  for (const x of walk(model, seed, steps)) {
    const fresh = new NllWorkspace(model);
    expect(Object.is(twiceNllPyhfOrder(reused, data, x), twiceNllPyhfOrder(fresh, data, x))).toBe(true);
    const fresh2 = new NllWorkspace(model);
    expect(Object.is(nll(reused, data, x, g1), nll(fresh2, data, x, g2))).toBe(true);
    expect(Array.from(g1)).toEqual(Array.from(g2));
  }
}

describe('NLL workspace reuse', () => {
  it('gives bit-identical NLL and gradient to a fresh workspace on an ATLAS RegionA model (64 parameters)', () => {
    const model = buildModel(
      loadWorkspace(`${dir}/RegionA/BkgOnly.json`, { patches: [`${dir}/RegionA/patch.sbottom_1300_850_60.json`] }),
    );
    expect(model.npars).toBe(64);
    expectSameAsFresh(model, 7, 16);
  });

  it('does so for every pyhf validation case under every interpolation code', () => {
    const codes = ['code0', 'code1', 'code2', 'code4', 'code4p'] as const;
    let models = 0;
    for (const c of validationCases())
      for (const normsys of codes)
        for (const histosys of codes) {
          expectSameAsFresh(buildModel(c.workspace, { interp: { normsys, histosys } }), models++, 40);
        }
    expect(models).toBe(9 * 25);
  });
});
