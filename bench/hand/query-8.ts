/**
 * ADL query 8: in events with at least three leptons (muons + electrons) and a same-flavour opposite-charge pair,
 * take the pair with mass closest to 91.2 GeV; fill the transverse mass of MET and the highest-pt lepton not in
 * that pair, sqrt(2·MET·pt·(1 − cos Δφ)).
 *
 * A fused loop: per event with three or more leptons, the leptons' cartesian components go into scratch
 * arrays (muons first, then electrons), the same-flavour opposite-charge pairs are scanned in that order
 * (first minimum wins ties), then the remaining leptons. Most events fail the lepton count before any math.
 */
import { defineProcessor } from 'ristretto';
import { adlHist, atLeast } from '../../processors/adl/common.ts';

const Z_MASS = 91.2;

export default defineProcessor({
  accumulator: () => ({ 'query-8': adlHist('query-8', 100, 15, 250, 'mt', 'm_{T}(E_{T}^{miss}, #font[12]{l}) [GeV]') }),
  process(events) {
    const out = this.accumulator();
    const muons = events.Muon;
    const electrons = events.Electron;
    const mo = muons.offsets;
    const eo = electrons.offsets;
    const n = events.numEvents;
    const metPt = events.MET.pt;
    const metPhi = events.MET.phi;
    const mpt = muons.pt.content;
    const meta = muons.eta.content;
    const mphi = muons.phi.content;
    const mmass = muons.mass.content;
    const mq = muons.charge.content;
    const ept = electrons.pt.content;
    const eeta = electrons.eta.content;
    const ephi = electrons.phi.content;
    const emass = electrons.mass.content;
    const eq = electrons.charge.content;

    // Scratch per event: pt, phi, charge and cartesian components of its leptons (muons, then electrons).
    let lpt = new Float64Array(16);
    let lphi = new Float64Array(16);
    let lq = new Float64Array(16);
    let lx = new Float64Array(16);
    let ly = new Float64Array(16);
    let lz = new Float64Array(16);
    let le = new Float64Array(16);
    const mt = new Float64Array(n);
    let filled = 0;

    for (let ev = 0; ev < n; ev++) {
      const ma = mo[ev];
      const nm = mo[ev + 1] - ma;
      const ea = eo[ev];
      const ne = eo[ev + 1] - ea;
      const nl = nm + ne;
      if (nl < 3) continue;
      if (nl > lpt.length) {
        lpt = atLeast(lpt, nl);
        lphi = atLeast(lphi, nl);
        lq = atLeast(lq, nl);
        lx = atLeast(lx, nl);
        ly = atLeast(ly, nl);
        lz = atLeast(lz, nl);
        le = atLeast(le, nl);
      }
      for (let l = 0; l < nl; l++) {
        const mu = l < nm;
        const j = mu ? ma + l : ea + l - nm;
        const pt = mu ? mpt[j] : ept[j];
        const eta = mu ? meta[j] : eeta[j];
        const phi = mu ? mphi[j] : ephi[j];
        const m = mu ? mmass[j] : emass[j];
        const x = pt * Math.cos(phi);
        const y = pt * Math.sin(phi);
        const z = pt * Math.sinh(eta);
        lpt[l] = pt;
        lphi[l] = phi;
        lq[l] = mu ? mq[j] : eq[j];
        lx[l] = x;
        ly[l] = y;
        lz[l] = z;
        le[l] = Math.sqrt(x * x + y * y + z * z + m * m);
      }
      let best = Infinity;
      let p0 = -1;
      let p1 = -1;
      // Same flavour: both indices among the muons [0, nm) or both among the electrons [nm, nl).
      for (let a = 0; a < nl - 1; a++) {
        const end = a < nm ? nm : nl;
        for (let b = a + 1; b < end; b++) {
          if (lq[a] * lq[b] >= 0) continue;
          const t = le[a] + le[b];
          const x = lx[a] + lx[b];
          const y = ly[a] + ly[b];
          const z = lz[a] + lz[b];
          const m2 = t * t - x * x - y * y - z * z;
          const d = Math.abs((m2 > 0 ? Math.sqrt(m2) : 0) - Z_MASS);
          if (d < best) {
            best = d;
            p0 = a;
            p1 = b;
          }
        }
      }
      if (p0 < 0) continue;
      let lead = -1;
      for (let l = 0; l < nl; l++) {
        if (l === p0 || l === p1) continue;
        if (lead < 0 || lpt[l] > lpt[lead]) lead = l;
      }
      const met = metPt[ev];
      mt[filled++] = Math.sqrt(2 * met * lpt[lead] * (1 - Math.cos(metPhi[ev] - lphi[lead])));
    }
    out['query-8'].fill(mt.subarray(0, filled));
    return out;
  },
});
