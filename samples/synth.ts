/**
 * Deterministic synthetic NanoAOD-like events: Z→μμ (Breit–Wigner mass, boosted isotropic decay) on top
 * of a Drell–Yan-like continuum, jets, electrons, MET and a generator weight, with plausible spectra.
 * The output uses NanoAOD-flat branch names (`nMuon`, `Muon_pt`, `MET_pt`, ...), the same layout the
 * readers produce, so the sample runs through every processor and executor like real data.
 */
import type { Jagged, NumericArray } from '../src/columnar/types.ts';
import { Rng } from './rng.ts';

/** Columns keyed by NanoAOD-flat branch name. */
export type SampleColumns = Record<string, NumericArray | Jagged>;

export interface SynthOptions {
  /** Seed of the random stream; the same seed and count give identical events (default 42). */
  seed?: number;
  /** Index of the first event, so that chunks generated separately concatenate into one stream (default 0). */
  firstEvent?: number;
  /** Fraction of events that contain a resonant Z→μμ decay (default 0.6). */
  zFraction?: number;
}

const Z_MASS = 91.1876;
const Z_WIDTH = 2.4952;
const MUON_MASS = 0.1056584;
const ELECTRON_MASS = 0.000511;

/** Growable column builder; only used while generating, never in an analysis hot path. */
class Builder<T extends Float32Array | Int32Array | Uint8Array> {
  private buf: T;
  length = 0;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(1024);
  }
  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = this.make(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }
  finish(): T {
    return this.buf.slice(0, this.length) as T;
  }
}

const f32 = () => new Builder((n) => new Float32Array(n));
const i32 = () => new Builder((n) => new Int32Array(n));
const u8 = () => new Builder((n) => new Uint8Array(n));

interface ObjectColumns {
  n: Int32Array;
  fields: Record<string, Builder<Float32Array | Int32Array | Uint8Array>>;
}

function collection(
  nEvents: number,
  names: Record<string, () => Builder<Float32Array | Int32Array | Uint8Array>>,
): ObjectColumns {
  const fields: ObjectColumns['fields'] = {};
  for (const [k, mk] of Object.entries(names)) fields[k] = mk();
  return { n: new Int32Array(nEvents), fields };
}

function finishCollection(prefix: string, c: ObjectColumns, out: SampleColumns): void {
  const offsets = new Int32Array(c.n.length + 1);
  for (let i = 0; i < c.n.length; i++) offsets[i + 1] = offsets[i] + c.n[i];
  out[`n${prefix}`] = c.n;
  for (const [k, b] of Object.entries(c.fields)) out[`${prefix}_${k}`] = { offsets, content: b.finish() };
}

/** A lepton from the decay of a boosted parent, written as (pt, eta, phi). */
function decayToLab(
  rng: Rng,
  parent: { px: number; py: number; pz: number; e: number; m: number },
  mDaughter: number,
  out: Float64Array,
): void {
  // Isotropic two-body decay in the rest frame, then a boost along the parent's velocity.
  const pStar = Math.sqrt(Math.max(0, (parent.m * parent.m) / 4 - mDaughter * mDaughter));
  const cosT = 2 * rng.uniform() - 1;
  const sinT = Math.sqrt(1 - cosT * cosT);
  const phiS = 2 * Math.PI * rng.uniform();
  const eStar = parent.m / 2;
  const bx = parent.px / parent.e;
  const by = parent.py / parent.e;
  const bz = parent.pz / parent.e;
  const b2 = bx * bx + by * by + bz * bz;
  const gamma = 1 / Math.sqrt(1 - b2);
  for (let sign = 1, k = 0; k < 2; sign = -1, k++) {
    const qx = sign * pStar * sinT * Math.cos(phiS);
    const qy = sign * pStar * sinT * Math.sin(phiS);
    const qz = sign * pStar * cosT;
    const bq = bx * qx + by * qy + bz * qz;
    const g2 = b2 > 0 ? (gamma - 1) / b2 : 0;
    const px = qx + g2 * bq * bx + gamma * bx * eStar;
    const py = qy + g2 * bq * by + gamma * by * eStar;
    const pz = qz + g2 * bq * bz + gamma * bz * eStar;
    const pt = Math.hypot(px, py);
    out[3 * k] = pt;
    out[3 * k + 1] = Math.asinh(pz / pt);
    out[3 * k + 2] = Math.atan2(py, px);
  }
}

/**
 * Generate `nEvents` synthetic events.
 *
 * @example
 * ```ts
 * const cols = generateEvents(1000, { seed: 7 });
 * const muonPt = cols.Muon_pt as Jagged; // offsets + Float32Array content
 * ```
 */
export function generateEvents(nEvents: number, opts: SynthOptions = {}): SampleColumns {
  const rng = new Rng((opts.seed ?? 42) ^ Math.imul(opts.firstEvent ?? 0, 0x2545f491));
  const zFraction = opts.zFraction ?? 0.6;
  const first = opts.firstEvent ?? 0;

  const run = new Int32Array(nEvents);
  const lumi = new Int32Array(nEvents);
  const event = new Float64Array(nEvents);
  const metPt = new Float32Array(nEvents);
  const metPhi = new Float32Array(nEvents);
  const genWeight = new Float32Array(nEvents);
  const hlt = new Uint8Array(nEvents);

  const muon = collection(nEvents, {
    pt: f32,
    eta: f32,
    phi: f32,
    mass: f32,
    charge: i32,
    pfRelIso04_all: f32,
    tightId: u8,
  });
  const electron = collection(nEvents, { pt: f32, eta: f32, phi: f32, mass: f32, charge: i32, cutBased: i32 });
  const jet = collection(nEvents, { pt: f32, eta: f32, phi: f32, mass: f32, btag: f32, puId: i32 });

  const lep = new Float64Array(6);
  const pushMuon = (pt: number, eta: number, phi: number, charge: number, iso: number): boolean => {
    if (pt < 3 || Math.abs(eta) > 2.4) return false;
    muon.fields.pt.push(pt);
    muon.fields.eta.push(eta);
    muon.fields.phi.push(phi);
    muon.fields.mass.push(MUON_MASS);
    muon.fields.charge.push(charge);
    muon.fields.pfRelIso04_all.push(iso);
    muon.fields.tightId.push(rng.uniform() < 0.92 ? 1 : 0);
    return true;
  };

  for (let i = 0; i < nEvents; i++) {
    const ev = first + i;
    run[i] = 1 + Math.floor(ev / 100000);
    lumi[i] = 1 + Math.floor((ev % 100000) / 1000);
    event[i] = ev + 1;
    genWeight[i] = rng.uniform() < 0.05 ? -1 : 1;

    let nMu = 0;
    let sumPx = 0;
    let sumPy = 0;
    if (rng.uniform() < zFraction) {
      const m = rng.breitWigner(Z_MASS, Z_WIDTH, 50, 150);
      const pt = rng.exponential(8) + Math.abs(rng.normal()) * 3;
      const y = rng.normal() * 1.4;
      const phi = 2 * Math.PI * rng.uniform() - Math.PI;
      const mt = Math.sqrt(m * m + pt * pt);
      const parent = { px: pt * Math.cos(phi), py: pt * Math.sin(phi), pz: mt * Math.sinh(y), e: mt * Math.cosh(y), m };
      decayToLab(rng, parent, MUON_MASS, lep);
      const q = rng.uniform() < 0.5 ? 1 : -1;
      for (let k = 0; k < 2; k++) {
        // Muon momentum resolution of ~1.5 %.
        const pt = lep[3 * k] * (1 + 0.015 * rng.normal());
        if (pushMuon(pt, lep[3 * k + 1], lep[3 * k + 2], k === 0 ? q : -q, rng.exponential(0.03))) {
          nMu++;
          sumPx += pt * Math.cos(lep[3 * k + 2]);
          sumPy += pt * Math.sin(lep[3 * k + 2]);
        }
      }
    }
    // Non-resonant muons (heavy flavour, fakes): soft and less isolated.
    const extra = rng.poisson(0.5);
    for (let k = 0; k < extra; k++) {
      const pt = 3 + rng.exponential(7);
      const phi = 2 * Math.PI * rng.uniform() - Math.PI;
      if (pushMuon(pt, rng.normal() * 1.3, phi, rng.uniform() < 0.5 ? 1 : -1, rng.exponential(0.4))) {
        nMu++;
        sumPx += pt * Math.cos(phi);
        sumPy += pt * Math.sin(phi);
      }
    }
    muon.n[i] = nMu;
    hlt[i] = nMu > 0 && rng.uniform() < 0.9 ? 1 : 0;

    const nEl = rng.poisson(0.35);
    for (let k = 0; k < nEl; k++) {
      const pt = 5 + rng.exponential(12);
      const phi = 2 * Math.PI * rng.uniform() - Math.PI;
      electron.fields.pt.push(pt);
      electron.fields.eta.push(Math.max(-2.5, Math.min(2.5, rng.normal() * 1.2)));
      electron.fields.phi.push(phi);
      electron.fields.mass.push(ELECTRON_MASS);
      electron.fields.charge.push(rng.uniform() < 0.5 ? 1 : -1);
      electron.fields.cutBased.push(Math.floor(rng.uniform() * 5));
      sumPx += pt * Math.cos(phi);
      sumPy += pt * Math.sin(phi);
    }
    electron.n[i] = nEl;

    const nJ = rng.poisson(2.2);
    for (let k = 0; k < nJ; k++) {
      const pt = 15 + rng.exponential(25);
      const phi = 2 * Math.PI * rng.uniform() - Math.PI;
      jet.fields.pt.push(pt);
      jet.fields.eta.push(Math.max(-4.7, Math.min(4.7, rng.normal() * 1.8)));
      jet.fields.phi.push(phi);
      jet.fields.mass.push(pt * (0.05 + 0.1 * rng.uniform()));
      jet.fields.btag.push(rng.uniform() < 0.15 ? 0.5 + 0.5 * rng.uniform() : 0.5 * rng.uniform() * rng.uniform());
      jet.fields.puId.push(Math.floor(rng.uniform() * 8));
      sumPx += pt * Math.cos(phi);
      sumPy += pt * Math.sin(phi);
    }
    jet.n[i] = nJ;

    // MET balances the visible objects only roughly: detector resolution of ~10 GeV per component.
    const mx = -0.1 * sumPx + 10 * rng.normal();
    const my = -0.1 * sumPy + 10 * rng.normal();
    metPt[i] = Math.hypot(mx, my);
    metPhi[i] = Math.atan2(my, mx);
  }

  const out: SampleColumns = { run, luminosityBlock: lumi, event };
  finishCollection('Muon', muon, out);
  finishCollection('Electron', electron, out);
  finishCollection('Jet', jet, out);
  out.MET_pt = metPt;
  out.MET_phi = metPhi;
  out.genWeight = genWeight;
  out.HLT_IsoMu24 = hlt;
  return out;
}
