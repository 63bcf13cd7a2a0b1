/**
 * ADL query 6: in events with at least three jets, the trijet whose invariant mass is closest to 172.5 GeV;
 * fills its pt (`query-6-1`) and the largest b-tag of its three jets (`query-6-2`).
 */
import { compute, defineProcessor, fused, fx } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({
    'query-6-1': adlHist('query-6-1', 100, 15, 40, 'pt', 'trijet p_{T} [GeV]'),
    'query-6-2': adlHist('query-6-2', 100, 0, 1, 'btag', 'max b-tag of the trijet'),
  }),
  process(events) {
    const out = this.accumulator();
    const top = fused(events)
      .Jet.triples()
      .argmin((a, b, c) => a.p4.add(b.p4).add(c.p4).mass.sub(172.5).abs());
    const [pt, btag] = compute([
      top.get((a, b, c) => a.p4.add(b.p4).add(c.p4).pt),
      top.get((a, b, c) => fx.maximum(a.btag, b.btag, c.btag)),
    ]);
    out['query-6-1'].fill(pt);
    out['query-6-2'].fill(btag);
    return out;
  },
});
