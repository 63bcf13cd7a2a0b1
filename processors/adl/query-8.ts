/**
 * ADL query 8: in events with at least three leptons (muons + electrons) and a same-flavour opposite-charge pair,
 * take the pair with mass closest to 91.2 GeV; fill the transverse mass of MET and the highest-pt lepton not in
 * that pair, sqrt(2·MET·pt·(1 − cos Δφ)).
 */
import { compute, concat, defineProcessor, fused, fx } from 'ristretto';
import { adlHist } from './common.ts';

export default defineProcessor({
  accumulator: () => ({ 'query-8': adlHist('query-8', 100, 15, 250, 'mt', 'm_{T}(E_{T}^{miss}, #font[12]{l}) [GeV]') }),
  process(events) {
    const out = this.accumulator();
    const ev = fused(events);
    const leptons = concat(ev.Muon, ev.Electron);
    const z = leptons
      .pairs()
      .where((a, b) => a.source.eq(b.source).and(a.charge.ne(b.charge)))
      .argmin((a, b) => a.p4.add(b.p4).mass.sub(91.2).abs());
    const [l1, l2] = z.objects;
    const lead = leptons.where((l) => l.index.ne(l1.index).and(l.index.ne(l2.index))).argmax((l) => l.pt);
    const mt = lead.get((l) => fx.transverseMass(ev.MET.pt, ev.MET.phi, l.pt, l.phi));
    out['query-8'].fill(compute(mt.where(leptons.count().ge(3).and(z.exists))));
    return out;
  },
});
