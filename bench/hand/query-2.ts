/** ADL query 2: `pt` of every jet. */
import { defineProcessor, flatten } from 'ristretto';
import { adlHist } from '../../processors/adl/common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-2': adlHist('query-2', 100, 15, 60, 'pt', 'jet p_{T} [GeV]') }),
  process(events) {
    const out = this.accumulator();
    out['query-2'].fill(flatten(events.Jet.pt));
    return out;
  },
});
