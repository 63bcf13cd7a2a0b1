/**
 * ADL query 7: per event, the scalar sum of pt of the jets with pt > 30 GeV that lie at ΔR ≥ 0.4 from every
 * lepton (electron or muon) with pt > 10 GeV; filled for events with at least one such jet.
 */
import { compute, concat, defineProcessor, fused } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-7': adlHist('query-7', 100, 15, 200, 'sumpt', '#Sigma p_{T} of isolated jets [GeV]') }),
  process(events) {
    const out = this.accumulator();
    const ev = fused(events);
    const leptons = concat(ev.Muon, ev.Electron).where((l) => l.pt.gt(10));
    const jets = ev.Jet.where((j) => j.pt.gt(30).and(leptons.all((l) => j.deltaR(l).ge(0.4))));
    out['query-7'].fill(compute(jets.sum((j) => j.pt).where(jets.count().gt(0))));
    return out;
  },
});
