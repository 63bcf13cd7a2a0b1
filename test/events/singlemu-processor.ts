/**
 * An ADL-flavoured processor over the Run2012B SingleMu sample, and the same quantities computed by a
 * naive per-event loop over rows (one JS object per event, lists as arrays) read independently through
 * hyparquet's row API. Both use `pairMass` so that equal inputs give bit-identical results.
 */
import { readFileSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Events } from '../../src/events/index.ts';

export interface SingleMuResult {
  sumMet: number;
  eventsTwoJets40: number;
  sumCentralJetPt: number;
  eventsZmumu: number;
  eventsIsoMu24: number;
  matchedJetPtSum: number;
  matchedMuons: number;
  maxJetsPerEvent: number;
}

/** Invariant mass of two (pt, eta, phi, m) objects. */
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
  const px = pt1 * Math.cos(phi1) + pt2 * Math.cos(phi2);
  const py = pt1 * Math.sin(phi1) + pt2 * Math.sin(phi2);
  const pz = pt1 * Math.sinh(eta1) + pt2 * Math.sinh(eta2);
  const e1 = Math.sqrt((pt1 * Math.cosh(eta1)) ** 2 + m1 * m1);
  const e2 = Math.sqrt((pt2 * Math.cosh(eta2)) ** 2 + m2 * m2);
  const e = e1 + e2;
  return Math.sqrt(Math.max(e * e - px * px - py * py - pz * pz, 0));
}

/** All quantities at zero, before the first event. */
function emptyResult(): SingleMuResult {
  return {
    sumMet: 0,
    eventsTwoJets40: 0,
    sumCentralJetPt: 0,
    eventsZmumu: 0,
    eventsIsoMu24: 0,
    matchedJetPtSum: 0,
    matchedMuons: 0,
    maxJetsPerEvent: 0,
  };
}

/** The processor: columnar, over the events view. */
export function singleMu(e: Events): SingleMuResult {
  const met = e.MET.pt;
  const hlt = e.HLT.IsoMu24;
  const joff = e.Jet.offsets;
  const jpt = e.Jet.pt.content;
  const jeta = e.Jet.eta.content;
  const moff = e.Muon.offsets;
  const mpt = e.Muon.pt.content;
  const meta = e.Muon.eta.content;
  const mphi = e.Muon.phi.content;
  const mmass = e.Muon.mass.content;
  const mq = e.Muon.charge.content;
  const mjet = e.Muon.jetIdxG.content;
  const r = emptyResult();
  for (let i = 0; i < e.numEvents; i++) {
    r.sumMet += met[i];
    if (hlt[i]) r.eventsIsoMu24++;
    let n40 = 0;
    r.maxJetsPerEvent = Math.max(r.maxJetsPerEvent, joff[i + 1] - joff[i]);
    for (let j = joff[i]; j < joff[i + 1]; j++) {
      if (jpt[j] > 40) n40++;
      if (Math.abs(jeta[j]) < 1) r.sumCentralJetPt += jpt[j];
    }
    if (n40 >= 2) r.eventsTwoJets40++;
    let z = false;
    for (let a = moff[i]; a < moff[i + 1]; a++) {
      const g = mjet[a];
      if (g >= 0) {
        r.matchedMuons++;
        r.matchedJetPtSum += jpt[g];
      }
      for (let b = a + 1; b < moff[i + 1]; b++) {
        if (mq[a] === mq[b]) continue;
        const m = pairMass(mpt[a], meta[a], mphi[a], mmass[a], mpt[b], meta[b], mphi[b], mmass[b]);
        if (m >= 60 && m <= 120) z = true;
      }
    }
    if (z) r.eventsZmumu++;
  }
  return r;
}

type Row = Record<string, unknown>;

/** Rows [start, stop) of a flat NanoAOD Parquet file through hyparquet's public object API. */
export async function flatRows(path: string, start: number, stop: number): Promise<Row[]> {
  const b = readFileSync(path);
  const file = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  const columns = [
    'MET_pt',
    'HLT_IsoMu24',
    'Jet_pt',
    'Jet_eta',
    'Muon_pt',
    'Muon_eta',
    'Muon_phi',
    'Muon_mass',
    'Muon_charge',
    'Muon_jetIdx',
  ];
  return (await parquetReadObjects({ file, columns, rowStart: start, rowEnd: stop, compressors })) as Row[];
}

/** The same quantities by a naive loop over row objects. */
export function naiveSingleMu(rows: Row[]): SingleMuResult {
  const r = emptyResult();
  for (const row of rows) {
    const list = (k: string) => Array.from(row[k] as ArrayLike<number>, Number);
    const jets = list('Jet_pt').map((pt, k) => ({ pt, eta: list('Jet_eta')[k] }));
    const mus = list('Muon_pt').map((pt, k) => ({
      pt,
      eta: list('Muon_eta')[k],
      phi: list('Muon_phi')[k],
      mass: list('Muon_mass')[k],
      q: list('Muon_charge')[k],
      jet: list('Muon_jetIdx')[k],
    }));
    r.sumMet += Number(row.MET_pt);
    if (row.HLT_IsoMu24) r.eventsIsoMu24++;
    r.maxJetsPerEvent = Math.max(r.maxJetsPerEvent, jets.length);
    if (jets.filter((j) => j.pt > 40).length >= 2) r.eventsTwoJets40++;
    for (const j of jets) if (Math.abs(j.eta) < 1) r.sumCentralJetPt += j.pt;
    let z = false;
    mus.forEach((a, ia) => {
      if (a.jet >= 0 && a.jet < jets.length) {
        r.matchedMuons++;
        r.matchedJetPtSum += jets[a.jet].pt;
      }
      for (const b of mus.slice(ia + 1)) {
        if (a.q === b.q) continue;
        const m = pairMass(a.pt, a.eta, a.phi, a.mass, b.pt, b.eta, b.phi, b.mass);
        if (m >= 60 && m <= 120) z = true;
      }
    });
    if (z) r.eventsZmumu++;
  }
  return r;
}

/** Branches `singleMu` touches (Muon.jetIdxG also touches the Jet offsets source). */
export const SINGLEMU_BRANCHES = [
  'HLT_IsoMu24',
  'Jet_eta',
  'Jet_pt',
  'MET_pt',
  'Muon_charge',
  'Muon_eta',
  'Muon_jetIdx',
  'Muon_mass',
  'Muon_phi',
  'Muon_pt',
  'nJet',
  'nMuon',
];
