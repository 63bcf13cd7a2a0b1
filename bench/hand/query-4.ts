/** ADL query 4: `MET_pt` of the events with at least two jets of pt > 40 GeV. */
import { count, defineProcessor, filterEvents, ge, gt } from 'ristretto';
import { adlHist } from '../../processors/adl/common.ts';

export default defineProcessor({
  accumulator: () => ({
    'query-4': adlHist('query-4', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV], #geq 2 jets p_{T} > 40 GeV'),
  }),
  process(events) {
    const out = this.accumulator();
    const twoHardJets = ge(count(gt(events.Jet.pt, 40)), 2);
    out['query-4'].fill(filterEvents(events.MET.pt, twoHardJets));
    return out;
  },
});
