/** Small ready-made workspaces, as pyhf's `simplemodels`, for examples and tests. */
import type { WorkspaceSpec } from './spec.ts';

/**
 * One channel with a signal (scaled by the POI `mu`) and a background with uncorrelated per-bin
 * uncertainties (a shapesys `uncorr_bkguncrt`), plus the observed counts.
 *
 * @example
 * ```ts
 * import { uncorrelatedBackground, buildModel, hypotest } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const r = hypotest(buildModel(spec), 1.0);
 * console.log(r.clsObs.toFixed(4), r.clsExp.map((x) => x.toFixed(4)));
 * ```
 */
export function uncorrelatedBackground(
  signal: number[],
  bkg: number[],
  bkgUncertainty: number[],
  observed: number[],
): WorkspaceSpec {
  return {
    version: '1.0.0',
    channels: [
      {
        name: 'singlechannel',
        samples: [
          { name: 'signal', data: signal, modifiers: [{ name: 'mu', type: 'normfactor', data: null }] },
          {
            name: 'background',
            data: bkg,
            modifiers: [{ name: 'uncorr_bkguncrt', type: 'shapesys', data: bkgUncertainty }],
          },
        ],
      },
    ],
    observations: [{ name: 'singlechannel', data: observed }],
    measurements: [{ name: 'measurement', config: { poi: 'mu', parameters: [] } }],
  };
}
