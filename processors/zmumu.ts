/**
 * Z→μμ: the dimuon selection of `zmumu-selection.ts` as a cutflow per dataset (events after each cut in
 * sequence, and passing each cut alone, keyed by cut name) and the dimuon mass of the selected events,
 * 60–120 GeV (all datasets together).
 *
 *     run-analysis samples/datasets/zmumu.json processors/zmumu.ts
 */
import { defineProcessor, filterEvents, Hist, Regular } from 'ristretto';
import { CUTS, MASS_HI, MASS_LO, selectDimuons } from './zmumu-selection.ts';

/** Event counts keyed by `initial` and the cut names. */
export type CutCounts = Record<string, number>;

function emptyCounts(): CutCounts {
  return Object.fromEntries(['initial', ...CUTS].map((c) => [c, 0]));
}

export default defineProcessor({
  accumulator: () => ({
    /** Per dataset: events passing the cuts up to and including each one. */
    cutflow: {} as Record<string, CutCounts>,
    /** Per dataset: events passing each cut on its own. */
    onecut: {} as Record<string, CutCounts>,
    mass: new Hist(new Regular(60, MASS_LO, MASS_HI, { name: 'mass', label: 'm_{#mu#mu} [GeV]' }), {
      name: 'mass',
      label: 'Z→μμ candidates',
    }),
  }),
  process(events, ctx) {
    const out = this.accumulator();
    const { selection, mass } = selectDimuons(events);
    const flow = selection.cutflow(...CUTS);
    const cutflow = (out.cutflow[ctx.dataset] = emptyCounts());
    const onecut = (out.onecut[ctx.dataset] = emptyCounts());
    flow.labels.forEach((label, i) => {
      cutflow[label] = flow.cutflow[i];
      onecut[label] = flow.onecut[i];
    });
    out.mass.fill(filterEvents(mass, selection.all(...CUTS)));
    return out;
  },
});
