/**
 * The Z→μμ event selection shared by `zmumu.ts` and `zmumu-weighted.ts`: per-event masks packed into a
 * PackedSelection (in cutflow order) and, for events with two good muons, the two leading ones and their mass.
 *
 * Good muon: pt > 15 GeV, |η| < 2.4, tight ID, pfRelIso04_all < 0.15. The cuts, in order: the single-muon
 * trigger; ≥ 2 muons in acceptance; ≥ 2 of them with tight ID; ≥ 2 of those isolated; the two leading good
 * muons of opposite charge; their invariant mass in [60, 120] GeV. The speed reference for
 * processors/zmumu-selection.ts (same cuts, imported from it), written as a hand loop.
 */
import { PackedSelection } from 'ristretto';
import type { Events } from 'ristretto';
// The cuts and the result shape are the processor's own, so both versions select the same events.
import {
  CUTS,
  type DimuonSelection,
  MASS_HI,
  MASS_LO,
  MUON_ETA,
  MUON_ISO,
  MUON_PT,
} from '../../processors/zmumu-selection.ts';

export { CUTS, type DimuonSelection };

/** Evaluate the selection on a chunk. */
export function selectDimuons(events: Events): DimuonSelection {
  const n = events.numEvents;
  const muons = events.Muon;
  const off = muons.offsets;
  const pt = muons.pt.content;
  const eta = muons.eta.content;
  const phi = muons.phi.content;
  const m = muons.mass.content;
  const q = muons.charge.content;
  const tight = muons.tightId.content;
  const iso = muons.pfRelIso04_all.content;
  const trig = events.HLT.IsoMu24;

  const trigger = new Uint8Array(n);
  const twoMuons = new Uint8Array(n);
  const tightId = new Uint8Array(n);
  const isolated = new Uint8Array(n);
  const opposite = new Uint8Array(n);
  const window = new Uint8Array(n);
  const lead = new Int32Array(n).fill(-1);
  const sublead = new Int32Array(n).fill(-1);
  const mass = new Float64Array(n).fill(NaN);

  for (let e = 0; e < n; e++) {
    trigger[e] = trig[e] ? 1 : 0;
    let nAcc = 0;
    let nTight = 0;
    let nGood = 0;
    let i1 = -1;
    let i2 = -1;
    for (let j = off[e], hi = off[e + 1]; j < hi; j++) {
      if (!(pt[j] > MUON_PT && Math.abs(eta[j]) < MUON_ETA)) continue;
      nAcc++;
      if (!tight[j]) continue;
      nTight++;
      if (!(iso[j] < MUON_ISO)) continue;
      nGood++;
      if (i1 < 0 || pt[j] > pt[i1]) {
        i2 = i1;
        i1 = j;
      } else if (i2 < 0 || pt[j] > pt[i2]) {
        i2 = j;
      }
    }
    twoMuons[e] = nAcc >= 2 ? 1 : 0;
    tightId[e] = nTight >= 2 ? 1 : 0;
    isolated[e] = nGood >= 2 ? 1 : 0;
    if (nGood < 2) continue;
    lead[e] = i1;
    sublead[e] = i2;
    opposite[e] = q[i1] * q[i2] < 0 ? 1 : 0;
    const mll = pairMass(pt[i1], eta[i1], phi[i1], m[i1], pt[i2], eta[i2], phi[i2], m[i2]);
    mass[e] = mll;
    window[e] = mll >= MASS_LO && mll <= MASS_HI ? 1 : 0;
  }
  const selection = new PackedSelection()
    .add('trigger', trigger)
    .add('twoMuons', twoMuons)
    .add('tightId', tightId)
    .add('isolated', isolated)
    .add('oppositeCharge', opposite)
    .add('massWindow', window);
  return { selection, lead, sublead, mass };
}

/** Invariant mass of two (pt, η, φ, m) four-vectors. */
export function pairMass(
  pt1: number,
  eta1: number,
  phi1: number,
  m1: number,
  pt2: number,
  eta2: number,
  phi2: number,
  m2: number,
): number {
  const x1 = pt1 * Math.cos(phi1);
  const y1 = pt1 * Math.sin(phi1);
  const z1 = pt1 * Math.sinh(eta1);
  const x2 = pt2 * Math.cos(phi2);
  const y2 = pt2 * Math.sin(phi2);
  const z2 = pt2 * Math.sinh(eta2);
  const e = Math.sqrt(x1 * x1 + y1 * y1 + z1 * z1 + m1 * m1) + Math.sqrt(x2 * x2 + y2 * y2 + z2 * z2 + m2 * m2);
  const x = x1 + x2;
  const y = y1 + y2;
  const z = z1 + z2;
  const s = e * e - x * x - y * y - z * z;
  return s > 0 ? Math.sqrt(s) : 0;
}
