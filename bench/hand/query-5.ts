/**
 * ADL query 5: `MET_pt` of the events with an opposite-charge muon pair of invariant mass in [60, 120] GeV.
 *
 * A fused loop: per event with two or more muons, the pairs are scanned until the first one that qualifies, with
 * each muon's cartesian components computed once. The kernel route (oppositeChargePairs → sumMass → ge/le/and →
 * any → filterEvents) gives the same events but builds every pair and mask and measured slower than DuckDB.
 */
import { defineProcessor } from 'ristretto';
import { adlHist, atLeast } from '../../processors/adl/common.ts';

const MASS_LO = 60;
const MASS_HI = 120;

export default defineProcessor({
  accumulator: () => ({
    'query-5': adlHist('query-5', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV], OS #mu#mu with 60 < m < 120 GeV'),
  }),
  process(events) {
    const out = this.accumulator();
    const muons = events.Muon;
    const off = muons.offsets;
    const ptC = muons.pt.content;
    const etaC = muons.eta.content;
    const phiC = muons.phi.content;
    const massC = muons.mass.content;
    const q = muons.charge.content;
    const met = events.MET.pt;
    const n = events.numEvents;

    let px = new Float64Array(16);
    let py = new Float64Array(16);
    let pz = new Float64Array(16);
    let en = new Float64Array(16);
    const selected = new Float64Array(n);
    let filled = 0;
    for (let e = 0; e < n; e++) {
      const a = off[e];
      const m = off[e + 1] - a;
      if (m < 2) continue;
      if (m > px.length) {
        px = atLeast(px, m);
        py = atLeast(py, m);
        pz = atLeast(pz, m);
        en = atLeast(en, m);
      }
      for (let i = 0; i < m; i++) {
        const pt = ptC[a + i];
        const phi = phiC[a + i];
        const x = pt * Math.cos(phi);
        const y = pt * Math.sin(phi);
        const z = pt * Math.sinh(etaC[a + i]);
        const mass = massC[a + i];
        px[i] = x;
        py[i] = y;
        pz[i] = z;
        en[i] = Math.sqrt(x * x + y * y + z * z + mass * mass);
      }
      let found = false;
      for (let i = 0; i < m - 1 && !found; i++) {
        const qi = q[a + i];
        for (let k = i + 1; k < m; k++) {
          if (qi * q[a + k] >= 0) continue;
          const t = en[i] + en[k];
          const x = px[i] + px[k];
          const y = py[i] + py[k];
          const z = pz[i] + pz[k];
          const m2 = t * t - x * x - y * y - z * z;
          const mass = m2 > 0 ? Math.sqrt(m2) : 0;
          if (mass >= MASS_LO && mass <= MASS_HI) {
            found = true;
            break;
          }
        }
      }
      if (found) selected[filled++] = met[e];
    }
    out['query-5'].fill(selected.subarray(0, filled));
    return out;
  },
});
