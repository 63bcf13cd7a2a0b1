/**
 * Text expressions (mathjs syntax) build the same graph as the method API: random chunks give identical arrays
 * through both, and through the eager kernels; bad text gives an ExpressionError naming the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as ak from '../../src/columnar/index.ts';
import { ExpressionError, parseExpr } from '../../src/columnar/fused/parse.ts';
import { expectSameValues, flatArb, listsArb, listsLike, toCollection, toFlat, valueArb } from './naive.ts';

const chunkArb = listsArb(valueArb('f32', { nan: true }), 12, 5).chain((pt) =>
  fc.record({
    pt: fc.constant(pt),
    eta: listsLike(pt, fc.double({ min: -3, max: 3, noNaN: true })),
    met: flatArb(pt.length, valueArb('f64')),
  }),
);

function eventsOf(c: { pt: number[][]; eta: number[][]; met: number[] }) {
  const Jet = toCollection({ pt: { lists: c.pt, dtype: 'f32' }, eta: { lists: c.eta, dtype: 'f64' } });
  return { Jet, MET: { pt: toFlat(c.met, 'f64') } };
}

describe('parseExpr', () => {
  it('text and method chains give identical arrays; both equal the eager kernels', () => {
    fc.assert(
      fc.property(chunkArb, (c) => {
        const events = eventsOf(c);
        const ev = ak.fused(events);
        const jets = ev.Jet;
        const ht = ak.compute(parseExpr('sum(Jet.pt[Jet.pt > 30 and abs(Jet.eta) < 2.4])', ev));
        expectSameValues(
          ht,
          Array.from(ak.compute(jets.where((j) => j.pt.gt(30).and(j.eta.abs().lt(2.4))).sum((j) => j.pt))),
        );
        const pt = ak.field(events.Jet, 'pt');
        const keep = ak.and(ak.gt(pt, 30), ak.lt(ak.abs(ak.field(events.Jet, 'eta')), 2.4));
        expectSameValues(ht, Array.from(ak.sum(ak.selectObjects(pt, keep))));

        const met = ak.compute(parseExpr('MET.pt[count(Jet) >= 2 and 2 * max(Jet.pt) - 1 > MET.pt / 3]', ev));
        const two = ak.ge(ak.counts(events.Jet), 2);
        const lead = ak.max(pt);
        const cond = ak.and(two, ak.gt(ak.sub(ak.mul(2, lead), 1), ak.div(events.MET.pt, 3)));
        expectSameValues(met, Array.from(ak.filterEvents(events.MET.pt, cond)));
      }),
      { numRuns: 120 },
    );
  });

  it('bad text: typed errors that name the expression', () => {
    const ev = ak.fused(eventsOf({ pt: [[1]], eta: [[0]], met: [1] }));
    expect(() => parseExpr('sum(Jet.pt[', ev)).toThrow(ExpressionError);
    expect(() => parseExpr('sum(Muon.pt)', ev)).toThrow(/Muon/);
    expect(() => parseExpr('median(Jet.pt)', ev)).toThrow(/unknown function median\(\)/);
    expect(() => parseExpr('Jet', ev)).toThrow(/collection or record/);
    expect(() => parseExpr('1 + 2', ev)).toThrow(ExpressionError);
  });
});
