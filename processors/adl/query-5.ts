/** ADL query 5: `MET_pt` of the events with an opposite-charge muon pair of invariant mass in [60, 120] GeV. */
import { and, any, filterEvents, ge, le, oppositeChargePairs, sumMass } from '../../src/columnar/index.ts';
import { defineProcessor } from '../../src/processor/types.ts';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-5': adlHist('query-5', 100, 0, 2000, 'met', 'E_{T}^{miss} [GeV], OS #mu#mu with 60 < m < 120 GeV') }),
  process(events) {
    const out = this.accumulator();
    const muons = events.Muon;
    const mass = sumMass(oppositeChargePairs(muons), muons);
    const hasZ = any(and(ge(mass, 60), le(mass, 120)));
    out['query-5'].fill(filterEvents(events.MET.pt, hasZ));
    return out;
  },
});
