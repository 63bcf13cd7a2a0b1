/**
 * ADL query 6: in events with at least three jets, the trijet whose invariant mass is closest to 172.5 GeV;
 * fills its pt (`query-6-1`) and the largest b-tag of its three jets (`query-6-2`).
 *
 * A fused loop: the cartesian components of every jet are computed once per chunk, then each event's triples
 * are summed from them (the pair sum is reused across the third jet), keeping only the best triple, so nothing
 * is allocated per candidate. The combinatorial kernels would materialize every triple's indices and mass.
 */
import { defineProcessor } from 'ristretto';
import { adlHist } from '../../processors/adl/common.ts';

const TOP_MASS = 172.5;

export default defineProcessor({
  accumulator: () => ({
    'query-6-1': adlHist('query-6-1', 100, 15, 40, 'pt', 'trijet p_{T} [GeV]'),
    'query-6-2': adlHist('query-6-2', 100, 0, 1, 'btag', 'max b-tag of the trijet'),
  }),
  process(events) {
    const out = this.accumulator();
    const jets = events.Jet;
    const off = jets.offsets;
    const ptC = jets.pt.content;
    const etaC = jets.eta.content;
    const phiC = jets.phi.content;
    const massC = jets.mass.content;
    const btagC = jets.btag.content;
    const n = events.numEvents;

    // Cartesian components only for jets of events that have three or more (most events have fewer).
    const base = off[0];
    const size = off[n] - base;
    const px = new Float64Array(size);
    const py = new Float64Array(size);
    const pz = new Float64Array(size);
    const en = new Float64Array(size);
    let candidates = 0;
    for (let e = 0; e < n; e++) {
      const a = off[e];
      const b = off[e + 1];
      if (b - a < 3) continue;
      candidates++;
      for (let j = a; j < b; j++) {
        const pt = ptC[j];
        const phi = phiC[j];
        const k = j - base;
        const x = pt * Math.cos(phi);
        const y = pt * Math.sin(phi);
        const z = pt * Math.sinh(etaC[j]);
        const m = massC[j];
        px[k] = x;
        py[k] = y;
        pz[k] = z;
        en[k] = Math.sqrt(x * x + y * y + z * z + m * m);
      }
    }

    const trijetPt = new Float64Array(candidates);
    const maxBtag = new Float64Array(candidates);
    let filled = 0;
    for (let e = 0; e < n; e++) {
      const a = off[e] - base;
      const b = off[e + 1] - base;
      if (b - a < 3) continue;
      let best = Infinity;
      let bi = -1;
      let bj = -1;
      let bk = -1;
      for (let i = a; i < b - 2; i++) {
        for (let j = i + 1; j < b - 1; j++) {
          const sx = px[i] + px[j];
          const sy = py[i] + py[j];
          const sz = pz[i] + pz[j];
          const se = en[i] + en[j];
          for (let k = j + 1; k < b; k++) {
            const x = sx + px[k];
            const y = sy + py[k];
            const z = sz + pz[k];
            const t = se + en[k];
            const m2 = t * t - x * x - y * y - z * z;
            const d = Math.abs((m2 > 0 ? Math.sqrt(m2) : 0) - TOP_MASS);
            if (d < best) {
              best = d;
              bi = i;
              bj = j;
              bk = k;
            }
          }
        }
      }
      if (bi < 0) continue; // every triple had a NaN mass
      const x = px[bi] + px[bj] + px[bk];
      const y = py[bi] + py[bj] + py[bk];
      trijetPt[filled] = Math.sqrt(x * x + y * y);
      maxBtag[filled] = Math.max(btagC[bi + base], btagC[bj + base], btagC[bk + base]);
      filled++;
    }
    out['query-6-1'].fill(trijetPt.subarray(0, filled));
    out['query-6-2'].fill(maxBtag.subarray(0, filled));
    return out;
  },
});
