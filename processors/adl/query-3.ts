/** ADL query 3: `pt` of the jets with |η| < 1. */
import { abs, flatten, lt, selectObjects } from '../../src/columnar/index.ts';
import { defineProcessor } from '../../src/processor/types.ts';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-3': adlHist('query-3', 100, 15, 60, 'pt', 'jet p_{T} [GeV], |#eta| < 1') }),
  process(events) {
    const out = this.accumulator();
    const jets = events.Jet;
    const central = lt(abs(jets.eta), 1);
    out['query-3'].fill(flatten(selectObjects(jets.pt, central)));
    return out;
  },
});
