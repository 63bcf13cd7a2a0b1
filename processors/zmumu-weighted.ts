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
import { BinnedLookup, compute, defineProcessor, fused, Hist, Regular, StrCategory, Weight, Weights } from 'ristretto';
import type { Expr, ExprLike } from 'ristretto';
import { CUTS, MASS_HI, MASS_LO, dimuons } from './zmumu-selection.ts';

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

// The last pt bin is open-ended; values beyond the table take its first or last bin (|η| ≥ 2.4: the last row).
const SF_BINS = [SF_ETA_EDGES, [...SF_PT_EDGES, Infinity]];
/** Scale factor per (|η|, pt) bin, and its absolute uncertainty. */
export const MUON_SF = new BinnedLookup(SF_VALUE, SF_BINS, 'muonSF');
export const MUON_SF_ERROR = new BinnedLookup(SF_ERROR, SF_BINS, 'muonSFError');

/** Scale factor of one muon and its uncertainty. */
export function muonSF(pt: number, eta: number): [number, number] {
  return [MUON_SF.value(Math.abs(eta), pt), MUON_SF_ERROR.value(Math.abs(eta), pt)];
}

/** Pileup weight: ratio of the data and simulation true-interaction profiles (Gaussians), data mean ±5 % for the variations. */
export function pileupWeight(nTrue: Expr, dataMean: ExprLike): Expr {
  const g = (mu: ExprLike, sigma: number) => nTrue.sub(mu).div(sigma).pow(2).mul(-0.5).exp().div(sigma);
  return g(dataMean, 9).div(g(32, 11));
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
    const ev = fused(events);
    const { cuts, mu1, mu2, mass } = dimuons(ev);
    const passed = CUTS.map((c) => cuts[c]).reduce((x, y) => x.and(y));
    const isMC = 'genWeight' in events;
    let sumw = isMC ? 0 : events.numEvents; // Σ genWeight over all events, for the normalization
    if (isMC) for (const w of events.genWeight) sumw += w;
    out.sumw[ctx.dataset] = sumw;
    if (!isMC) {
      out.mass.fill(ctx.dataset, 'nominal', compute(mass.where(passed)));
      return out;
    }

    // Per selected event: genWeight, the product of the two muons' scale factors (shifted by their
    // uncertainties for the variations) and, where the file has it, the pileup weight.
    const s1 = MUON_SF.at(mu1.eta.abs(), mu1.pt);
    const u1 = MUON_SF_ERROR.at(mu1.eta.abs(), mu1.pt);
    const s2 = MUON_SF.at(mu2.eta.abs(), mu2.pt);
    const u2 = MUON_SF_ERROR.at(mu2.eta.abs(), mu2.pt);
    const columns: Record<string, Expr> = {
      mass,
      genWeight: ev.genWeight,
      sf: s1.mul(s2),
      sfUp: s1.add(u1).mul(s2.add(u2)),
      sfDown: s1.sub(u1).mul(s2.sub(u2)),
    };
    const hasPileup = 'Pileup' in events && 'nTrueInt' in events.Pileup;
    if (hasPileup) {
      const nTrue = ev.Pileup.nTrueInt;
      columns.pu = pileupWeight(nTrue, PILEUP_DATA_MEAN);
      columns.puUp = pileupWeight(nTrue, PILEUP_DATA_MEAN * 1.05);
      columns.puDown = pileupWeight(nTrue, PILEUP_DATA_MEAN * 0.95);
    }
    const c = compute(Object.fromEntries(Object.entries(columns).map(([k, x]) => [k, x.where(passed)])));
    const weights = new Weights(c.mass.length);
    weights.add('genWeight', c.genWeight);
    weights.add('muonSF', c.sf, { up: c.sfUp, down: c.sfDown });
    if (hasPileup) weights.add('pileup', c.pu, { up: c.puUp, down: c.puDown });
    out.mass.fill(ctx.dataset, 'nominal', c.mass, { weight: weights.weight() });
    for (const v of weights.variations) out.mass.fill(ctx.dataset, v, c.mass, { weight: weights.weight(v) });
    return out;
  },
});
