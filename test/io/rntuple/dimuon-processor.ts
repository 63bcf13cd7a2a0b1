/**
 * Test processor for the RNTuple file: events and muons counted, per-event muon multiplicities, and
 * the invariant mass of opposite-charge muon pairs in two-muon events, through the events layer
 * (`events.Muon.pt` ...), so the RNTuple reader is exercised the way an analysis uses it.
 */
import { defineProcessor } from '../../../src/processor/types.ts';

export interface Dimuon {
  nevents: number;
  nmuons: number;
  multiplicity: Record<string, number>;
  masses: number[];
}

export default defineProcessor<Dimuon>({
  accumulator: () => ({ nevents: 0, nmuons: 0, multiplicity: {}, masses: [] }),
  process(events) {
    const out = this.accumulator();
    const mu = events.Muon;
    const off = mu.offsets;
    const { pt, eta, phi, mass, charge } = mu.fields as Record<string, ArrayLike<number>>;
    out.nevents = events.numEvents;
    for (let e = 0; e < events.numEvents; e++) {
      const n = off[e + 1] - off[e];
      out.nmuons += n;
      out.multiplicity[n] = (out.multiplicity[n] ?? 0) + 1;
      if (n !== 2) continue;
      const a = off[e],
        b = a + 1;
      if (charge[a] === charge[b]) continue;
      let E = 0,
        px = 0,
        py = 0,
        pz = 0;
      for (const i of [a, b]) {
        const x = pt[i] * Math.cos(phi[i]),
          y = pt[i] * Math.sin(phi[i]),
          z = pt[i] * Math.sinh(eta[i]);
        E += Math.sqrt(x * x + y * y + z * z + mass[i] * mass[i]);
        px += x;
        py += y;
        pz += z;
      }
      out.masses.push(Math.sqrt(Math.max(0, E * E - px * px - py * py - pz * pz)));
    }
    return out;
  },
});
