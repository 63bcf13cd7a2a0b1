/** ADL query 3: `pt` of the jets with |η| < 1. */
import { compute, defineProcessor, fused } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-3': adlHist('query-3', 100, 15, 60, 'pt', 'jet p_{T} [GeV], |#eta| < 1') }),
  process(events) {
    const out = this.accumulator();
    const jets = fused(events).Jet;
    out['query-3'].fill(compute(jets.pt.where(jets.eta.abs().lt(1))));
    return out;
  },
});
