/**
 * The Z→μμ event selection shared by `zmumu.ts` and `zmumu-weighted.ts`: per-event masks packed into a
 * PackedSelection (in cutflow order) and, for events with two good muons, the two leading ones and their mass.
 *
 * Good muon: pt > 15 GeV, |η| < 2.4, tight ID, pfRelIso04_all < 0.15. The cuts, in order: the single-muon
 * trigger; ≥ 2 muons in acceptance; ≥ 2 of them with tight ID; ≥ 2 of those isolated; the two leading good
 * muons of opposite charge; their invariant mass in [60, 120] GeV. Written with the fused columnar API (one
 * generated loop per chunk); the hand-written loop it replaced is bench/hand/zmumu-selection.ts.
 */
import { compute, fused, PackedSelection } from 'ristretto';
import type { Events, Expr, FusedEvents, Objects } from 'ristretto';

export const MUON_PT = 15;
export const MUON_ETA = 2.4;
export const MUON_ISO = 0.15;
export const MASS_LO = 60;
export const MASS_HI = 120;

/** Selection names in cutflow order. */
export const CUTS = ['trigger', 'twoMuons', 'tightId', 'isolated', 'oppositeCharge', 'massWindow'] as const;

export interface DimuonSelection {
  /** One bit per cut of `CUTS`, per event. */
  readonly selection: PackedSelection;
  /** Global indices (into the Muon contents) of the leading and subleading good muon; −1 without two good muons. */
  readonly lead: Int32Array;
  readonly sublead: Int32Array;
  /** Invariant mass of the two leading good muons (NaN without two). */
  readonly mass: Float64Array;
}

/** The selection as fused expressions: one condition per cut, the two leading good muons and their mass. */
export interface DimuonExprs {
  /** One condition per cut of `CUTS`, per event. */
  readonly cuts: Readonly<Record<(typeof CUTS)[number], Expr>>;
  /** The leading and subleading good muon (defined where `found` holds). */
  readonly mu1: Objects;
  readonly mu2: Objects;
  /** True where the event has two good muons. */
  readonly found: Expr;
  /** Invariant mass of the two leading good muons. */
  readonly mass: Expr;
}

/** The selection on the events of a chunk, as expressions (nothing runs until `compute`). */
export function dimuons(ev: FusedEvents): DimuonExprs {
  const inAcceptance = ev.Muon.where((m) => m.pt.gt(MUON_PT).and(m.eta.abs().lt(MUON_ETA)));
  const tight = inAcceptance.where((m) => m.tightId.ne(0));
  const good = tight.where((m) => m.pfRelIso04_all.lt(MUON_ISO));
  const [mu1] = good.argmax((m) => m.pt).objects;
  const second = good.where((m) => m.index.ne(mu1.index)).argmax((m) => m.pt);
  const [mu2] = second.objects;
  const mass = mu1.p4.add(mu2.p4).mass;
  const found = second.exists;
  const cuts = {
    trigger: ev.HLT.IsoMu24.ne(0),
    twoMuons: inAcceptance.count().ge(2),
    tightId: tight.count().ge(2),
    isolated: good.count().ge(2),
    oppositeCharge: found.and(mu1.charge.mul(mu2.charge).lt(0)),
    massWindow: found.and(mass.between(MASS_LO, MASS_HI)),
  };
  return { cuts, mu1, mu2, found, mass };
}

/** Evaluate the selection on a chunk. */
export function selectDimuons(events: Events): DimuonSelection {
  const { cuts, mu1, mu2, found, mass } = dimuons(fused(events));
  const c = compute({
    ...cuts,
    lead: mu1.globalIndex.where(found).fillNone(-1),
    sublead: mu2.globalIndex.where(found).fillNone(-1),
    mass: mass.where(found).fillNone(NaN),
  });
  const selection = new PackedSelection();
  for (const cut of CUTS) selection.add(cut, c[cut] as Uint8Array);
  return {
    selection,
    lead: Int32Array.from(c.lead),
    sublead: Int32Array.from(c.sublead),
    mass: c.mass as Float64Array,
  };
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
