/** ADL query 4: `MET_pt` of the events with at least two jets of pt > 40 GeV. */
import { compute, defineProcessor, fused } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({
    'query-4': adlHist('query-4', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV], #geq 2 jets p_{T} > 40 GeV'),
  }),
  process(events) {
    const out = this.accumulator();
    const ev = fused(events);
    const twoHardJets = ev.Jet.count((j) => j.pt.gt(40)).ge(2);
    out['query-4'].fill(compute(ev.MET.pt.where(twoHardJets)));
    return out;
  },
});
