/**
 * Weighted Z→μμ: the selection of `zmumu-selection.ts`, with simulated events weighted by
 * genWeight × muon scale factor (× pileup weight when the file has `Pileup_nTrueInt`), each factor but
 * genWeight with up/down variations (`Weights`). The dimuon mass is filled into one histogram with a
 * growing dataset axis and a systematic axis (`nominal`, then `muonSFUp`, `muonSFDown`, `pileupUp`, ...),
 * Weight storage (Σw, Σw²). Collision data (no `genWeight`) gets weight 1 and only the `nominal` category.
 * `sumw` holds Σ genWeight over all processed events per dataset, for normalization.
 *
 *     run-analysis samples/datasets/zmumu.json processors/zmumu-weighted.ts
 */
import { defineProcessor, Hist, Regular, StrCategory, Weight, Weights } from 'ristretto';
import { CUTS, MASS_HI, MASS_LO, selectDimuons } from './zmumu-selection.ts';

/** Muon ID+isolation scale factors: rows |η| bins, columns pt bins; value and absolute uncertainty. */
export const SF_ETA_EDGES = [0, 0.9, 1.2, 2.1, 2.4];
export const SF_PT_EDGES = [15, 25, 40, 60];
export const SF_VALUE = [
  [0.978, 0.986, 0.99, 0.992],
  [0.972, 0.981, 0.985, 0.988],
  [0.968, 0.978, 0.983, 0.986],
  [0.951, 0.962, 0.97, 0.975],
];
export const SF_ERROR = [
  [0.006, 0.004, 0.003, 0.005],
  [0.008, 0.005, 0.004, 0.006],
  [0.009, 0.005, 0.004, 0.007],
  [0.015, 0.01, 0.008, 0.012],
];

/** Index b with edges[b] ≤ x < edges[b + 1]; 0 below the first edge, the last index above the last edge. */
function lowerEdgeIndex(edges: readonly number[], x: number): number {
  let b = 0;
  while (b + 1 < edges.length && x >= edges[b + 1]!) b++;
  return b;
}

/** Scale factor of one muon and its uncertainty. */
export function muonSF(pt: number, eta: number): [number, number] {
  // |η| beyond the table uses its last row; pt above the last edge, its last column.
  const i = Math.min(lowerEdgeIndex(SF_ETA_EDGES, Math.abs(eta)), SF_VALUE.length - 1);
  const j = lowerEdgeIndex(SF_PT_EDGES, pt);
  return [SF_VALUE[i]![j]!, SF_ERROR[i]![j]!];
}

/** Pileup weight: ratio of the data and simulation true-interaction profiles (Gaussians), data mean ±5 % for the variations. */
export function pileupWeight(nTrue: number, dataMean: number): number {
  const g = (x: number, mu: number, sigma: number) => Math.exp(-0.5 * ((x - mu) / sigma) ** 2) / sigma;
  return g(nTrue, dataMean, 9) / g(nTrue, 32, 11);
}
export const PILEUP_DATA_MEAN = 30;

export default defineProcessor({
  accumulator: () => ({
    mass: new Hist(
      new StrCategory([], { name: 'dataset', label: 'Dataset', growth: true }),
      new StrCategory(['nominal'], { name: 'systematic', label: 'Systematic', growth: true }),
      new Regular(60, MASS_LO, MASS_HI, { name: 'mass', label: 'm_{#mu#mu} [GeV]' }),
      { storage: new Weight(), name: 'mass', label: 'Z→μμ candidates, weighted' },
    ),
    sumw: {} as Record<string, number>,
  }),
  process(events, ctx) {
    const out = this.accumulator();
    const { selection, lead, sublead, mass } = selectDimuons(events);
    const passed = selection.all(...CUTS);
    const isMC = 'genWeight' in events;
    const gen = isMC ? events.genWeight : undefined;

    let sumw = 0;
    if (gen) for (let e = 0; e < events.numEvents; e++) sumw += gen[e]!;
    else sumw = events.numEvents;
    out.sumw[ctx.dataset] = sumw;

    // Compact the selected events: mass, genWeight and the per-event factors with their variations.
    let n = 0;
    for (let e = 0; e < passed.length; e++) n += passed[e]!;
    const m = new Float64Array(n);
    const idx = new Int32Array(n);
    for (let e = 0, k = 0; e < passed.length; e++) {
      if (passed[e]) {
        m[k] = mass[e]!;
        idx[k++] = e;
      }
    }
    if (!gen) {
      out.mass.fill(ctx.dataset, 'nominal', m);
      return out;
    }

    const pt = events.Muon.pt.content;
    const eta = events.Muon.eta.content;
    const genw = new Float64Array(n);
    const sf = new Float64Array(n);
    const sfUp = new Float64Array(n);
    const sfDown = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const e = idx[k]!;
      genw[k] = gen[e]!;
      const [s1, u1] = muonSF(pt[lead[e]!]!, eta[lead[e]!]!);
      const [s2, u2] = muonSF(pt[sublead[e]!]!, eta[sublead[e]!]!);
      sf[k] = s1 * s2;
      sfUp[k] = (s1 + u1) * (s2 + u2);
      sfDown[k] = (s1 - u1) * (s2 - u2);
    }
    const weights = new Weights(n);
    weights.add('genWeight', genw);
    weights.add('muonSF', sf, { up: sfUp, down: sfDown });
    if ('Pileup' in events && 'nTrueInt' in events.Pileup) {
      const nTrue = events.Pileup.nTrueInt;
      const pu = new Float64Array(n);
      const puUp = new Float64Array(n);
      const puDown = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const t = nTrue[idx[k]!]!;
        pu[k] = pileupWeight(t, PILEUP_DATA_MEAN);
        puUp[k] = pileupWeight(t, PILEUP_DATA_MEAN * 1.05);
        puDown[k] = pileupWeight(t, PILEUP_DATA_MEAN * 0.95);
      }
      weights.add('pileup', pu, { up: puUp, down: puDown });
    }
    out.mass.fill(ctx.dataset, 'nominal', m, { weight: weights.weight() });
    for (const v of weights.variations) out.mass.fill(ctx.dataset, v, m, { weight: weights.weight(v) });
    return out;
  },
});
