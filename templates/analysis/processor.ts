/**
 * Z→μμ per dataset: the dimuon mass of events with an opposite-charge pair of good muons, one histogram
 * with a dataset axis (data and each simulated process), weighted for simulation, and a weighted cutflow.
 *
 * `process` runs once per chunk of events; Ristretto merges what it returns over all chunks and files.
 */
import {
  abs, and, any, counts, defineProcessor, ge, gt, Hist, le, lt, oppositeChargePairs, PackedSelection, Regular,
  selectObjects, StrCategory, sumMass, Weight, Weights, filterEvents, firsts,
} from 'ristretto';

/** Cuts in cutflow order. */
const CUTS = ['trigger', 'twoMuons', 'zWindow'];

export default defineProcessor({
  accumulator: () => ({
    mass: new Hist(
      new StrCategory([], { name: 'dataset', label: 'Dataset', growth: true }),
      new Regular(60, 60, 120, { name: 'mass', label: 'm_{#mu#mu} [GeV]' }),
      { storage: new Weight(), name: 'mass', label: 'Opposite-charge dimuons' },
    ),
    // Σ weights after each cut, per dataset: { all, trigger, twoMuons, zWindow } (merged by adding).
    cutflow: {} as Record<string, Record<string, number>>,
  }),

  process(events, ctx) {
    const out = this.accumulator();
    const muons = events.Muon;
    const good = selectObjects(muons, and(gt(muons.pt, 15), lt(abs(muons.eta), 2.4)));
    const pairMass = sumMass(oppositeChargePairs(good), good); // one value per opposite-charge pair

    const selection = new PackedSelection();
    selection.add('trigger', events.HLT.IsoMu24);
    selection.add('twoMuons', ge(counts(good), 2));
    selection.add('zWindow', any(and(ge(pairMass, 60), le(pairMass, 120))));

    // Simulation is scaled to the data luminosity (metadata from datasets.json); data has weight 1.
    const weights = new Weights(events.numEvents);
    if (ctx.metadata.isData !== true) {
      const scale = Number(ctx.metadata.xsec ?? 1) * Number(ctx.metadata.lumi ?? 1) / Number(ctx.metadata.nGenerated ?? 1);
      weights.add('genWeight', events.genWeight);
      weights.add('normalization', new Float64Array(events.numEvents).fill(scale));
    }
    const w = weights.weight();

    const flow = selection.cutflow(...CUTS, { weight: w });
    out.cutflow[ctx.dataset] = Object.fromEntries(flow.labels.map((label, i) => [label, flow.cutflow[i]!]));
    const passed = selection.all(...CUTS);
    // The first opposite-charge pair of each selected event.
    const mass = firsts(filterEvents(pairMass, passed)).values;
    out.mass.fill(ctx.dataset, mass, { weight: filterEvents(w, passed) });
    return out;
  },

  postprocess(acc) {
    // A weighted cutflow table, printed once at the end of the run.
    console.log('weighted cutflow (Σw after each cut):');
    console.table(Object.fromEntries(Object.entries(acc.cutflow).map(([dataset, flow]) => [dataset, Object.fromEntries(Object.entries(flow).map(([cut, sumw]) => [cut, Number(sumw.toFixed(1))]))])));
  },
});

