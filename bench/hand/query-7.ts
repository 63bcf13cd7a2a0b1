/**
 * ADL query 7: per event, the scalar sum of pt of the jets with pt > 30 GeV that lie at ΔR ≥ 0.4 from every
 * lepton (electron or muon) with pt > 10 GeV; filled for events with at least one such jet.
 *
 * A fused loop: each event's selected leptons go into a small scratch list, then every hard jet is checked
 * against it. The kernel route (cartesian jet × lepton pairs, ΔR, all-reduction, masks) builds several arrays
 * the size of all jet-lepton pairs for the same answer.
 */
import { defineProcessor, wrapPhi } from 'ristretto';
import { adlHist, atLeast } from '../../processors/adl/common.ts';

const JET_PT = 30;
const LEPTON_PT = 10;
const MIN_DR2 = 0.4 * 0.4;

export default defineProcessor({
  accumulator: () => ({ 'query-7': adlHist('query-7', 100, 15, 200, 'sumpt', '#Sigma p_{T} of isolated jets [GeV]') }),
  process(events) {
    const out = this.accumulator();
    const jets = events.Jet;
    const muons = events.Muon;
    const electrons = events.Electron;
    const jo = jets.offsets;
    const jpt = jets.pt.content;
    const jeta = jets.eta.content;
    const jphi = jets.phi.content;
    const mo = muons.offsets;
    const mpt = muons.pt.content;
    const meta = muons.eta.content;
    const mphi = muons.phi.content;
    const eo = electrons.offsets;
    const ept = electrons.pt.content;
    const eeta = electrons.eta.content;
    const ephi = electrons.phi.content;
    const n = events.numEvents;

    let lepEta = new Float64Array(16);
    let lepPhi = new Float64Array(16);
    const sums = new Float64Array(n);
    let filled = 0;
    for (let e = 0; e < n; e++) {
      const ja = jo[e];
      const jb = jo[e + 1];
      if (ja === jb) continue;
      const ma = mo[e];
      const mb = mo[e + 1];
      const ea = eo[e];
      const eb = eo[e + 1];
      const maxLeptons = mb - ma + eb - ea;
      if (maxLeptons > lepEta.length) {
        lepEta = atLeast(lepEta, maxLeptons);
        lepPhi = atLeast(lepPhi, maxLeptons);
      }
      let nl = 0;
      for (let j = ma; j < mb; j++) {
        if (mpt[j] > LEPTON_PT) {
          lepEta[nl] = meta[j];
          lepPhi[nl++] = mphi[j];
        }
      }
      for (let j = ea; j < eb; j++) {
        if (ept[j] > LEPTON_PT) {
          lepEta[nl] = eeta[j];
          lepPhi[nl++] = ephi[j];
        }
      }
      let sum = 0;
      let any = false;
      for (let j = ja; j < jb; j++) {
        const pt = jpt[j];
        if (!(pt > JET_PT)) continue;
        const eta = jeta[j];
        const phi = jphi[j];
        let isolated = true;
        for (let l = 0; l < nl; l++) {
          const deta = eta - lepEta[l];
          const dphi = wrapPhi(phi - lepPhi[l]);
          if (deta * deta + dphi * dphi < MIN_DR2) {
            isolated = false;
            break;
          }
        }
        if (isolated) {
          sum += pt;
          any = true;
        }
      }
      if (any) sums[filled++] = sum;
    }
    out['query-7'].fill(sums.subarray(0, filled));
    return out;
  },
});
