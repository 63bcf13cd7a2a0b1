/** ADL query 5: `MET_pt` of the events with an opposite-charge muon pair of invariant mass in [60, 120] GeV. */
import { compute, defineProcessor, fused } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({
    'query-5': adlHist('query-5', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV], OS #mu#mu with 60 < m < 120 GeV'),
  }),
  process(events) {
    const out = this.accumulator();
    const ev = fused(events);
    const hasZ = ev.Muon.pairs().any((a, b) => a.charge.ne(b.charge).and(a.p4.add(b.p4).mass.between(60, 120)));
    out['query-5'].fill(compute(ev.MET.pt.where(hasZ)));
    return out;
  },
});
