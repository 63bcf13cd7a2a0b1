/** ADL query 1: `MET_pt` of every event. */
import { defineProcessor } from 'ristretto';
import { adlHist } from '../../processors/adl/common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-1': adlHist('query-1', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV]') }),
  process(events) {
    const out = this.accumulator();
    out['query-1'].fill(events.MET.pt);
    return out;
  },
});
