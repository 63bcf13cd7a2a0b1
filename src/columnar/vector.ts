/**
 * Four-vector behaviour of any collection with `pt`, `eta`, `phi`, `mass` fields (massless objects can carry a
 * zero `mass` field). Math is Float64 internally and results are Float64Array: invariant masses of boosted pairs
 * lose digits in Float32 (m² is a difference of large numbers), and the outputs are small next to the inputs.
 *
 * Candidate kernels (`sumMass`, `sumP4`, `pairDeltaR`, ...) take index lists from `combinations`, `cartesian` or
 * `oppositeChargePairs` and read the fields through the indices: nothing is allocated per candidate. Pass the
 * collections the index lists were built from; after `filterEvents(pairs, mask)` that is still the unfiltered
 * collection (indices are global), and every index is checked against the fields' lengths.
 */
import type { Collection, Combinations, Jagged, NumericArray } from './types.ts';
import type { Operand } from './elementwise.ts';
import { binaryKernel } from './elementwise.ts';
import { sub } from './math.ts';
import { mul } from './math.ts';
import { checkContent, eventsOf, fieldOf } from './shape.ts';
import { InvalidArgumentError } from './errors.ts';
import { perDtype } from './specialize.ts';

const TWO_PI = 2 * Math.PI;

/** Wraps an angle difference to [−π, π); NaN and ±Infinity give NaN. */
export function wrapPhi(d: number): number {
  if (d >= -Math.PI && d < Math.PI) return d;
  let r = d - TWO_PI * Math.floor((d + Math.PI) / TWO_PI);
  // Rounding in the line above can land just outside the interval (seen below −π near large odd multiples of π).
  if (r >= Math.PI) r -= TWO_PI;
  else if (r < -Math.PI) r += TWO_PI;
  return r;
}

/** Float64Array if no operand is jagged, Jagged<Float64Array> otherwise. */
export type VectorResult<T extends readonly Operand[]> =
  Extract<T[number], Jagged> extends never ? Float64Array : Jagged<Float64Array>;

/**
 * φ_a − φ_b wrapped to [−π, π), with broadcasting (scalar, flat, jagged).
 *
 * @example
 * ```ts
 * const dphiJetMet = deltaPhi(jetPhi, metPhi);  // jagged vs per-event → jagged
 * ```
 */
export const deltaPhi = binaryKernel('deltaPhi', 'wrapPhi(a - b)', Float64Array, { wrapPhi });

const hypot2 = binaryKernel('hypot2', 'Math.sqrt(a * a + b * b)', Float64Array);
const cosDiff = binaryKernel('cosDiff', 'Math.cos(a - b)', Float64Array);
const mtFromParts = binaryKernel('mtFromParts', 'Math.sqrt(Math.max(0, 2 * a * (1 - b)))', Float64Array);

/**
 * ΔR = √(Δη² + Δφ²) with broadcasting; Δφ wrapped to [−π, π).
 *
 * @example
 * ```ts
 * const dr = deltaR(jetEta, jetPhi, leadMuonEta, leadMuonPhi);   // jagged vs per-event
 * ```
 */
export function deltaR<A extends Operand, B extends Operand, C extends Operand, D extends Operand>(
  eta1: A,
  phi1: B,
  eta2: C,
  phi2: D,
): VectorResult<[A, B, C, D]> {
  return hypot2(sub(eta1, eta2) as Operand, deltaPhi(phi1, phi2) as Operand) as VectorResult<[A, B, C, D]>;
}

/**
 * Transverse mass √(2 pt_a pt_b (1 − cos Δφ)) with broadcasting, e.g. of a lepton and the missing momentum.
 *
 * @example
 * ```ts
 * const mt = transverseMass(leadLep.pt, leadLep.phi, metPt, metPhi);  // per event
 * ```
 */
export function transverseMass<A extends Operand, B extends Operand, C extends Operand, D extends Operand>(
  ptA: A,
  phiA: B,
  ptB: C,
  phiB: D,
): VectorResult<[A, B, C, D]> {
  return mtFromParts(mul(ptA, ptB) as Operand, cosDiff(phiA, phiB) as Operand) as VectorResult<[A, B, C, D]>;
}

interface PtEtaPhiM {
  pt: NumericArray;
  eta: NumericArray;
  phi: NumericArray;
  mass: NumericArray;
}

function p4Fields(operation: string, c: Collection): PtEtaPhiM {
  return {
    pt: fieldOf(operation, c, 'pt'),
    eta: fieldOf(operation, c, 'eta'),
    phi: fieldOf(operation, c, 'phi'),
    mass: fieldOf(operation, c, 'mass'),
  };
}

type PerObjectLoop = (fs: NumericArray[], out: Float64Array, lo: number, hi: number) => void;

function perObject(
  operation: string,
  c: Collection,
  names: readonly string[],
  loop: (...arrays: NumericArray[]) => PerObjectLoop,
): Jagged<Float64Array> {
  const n = eventsOf(operation, 'collection', c.offsets);
  const fs = names.map((f) => fieldOf(operation, c, f));
  const out = new Float64Array(c.offsets[n]);
  loop(...fs)(fs, out, c.offsets[0], c.offsets[n]);
  return { offsets: c.offsets, content: out };
}

const pxLoop = perDtype<PerObjectLoop>(([pt, phi], out, lo, hi) => {
  for (let j = lo; j < hi; j++) out[j] = pt[j] * Math.cos(phi[j]);
});
const pyLoop = perDtype<PerObjectLoop>(([pt, phi], out, lo, hi) => {
  for (let j = lo; j < hi; j++) out[j] = pt[j] * Math.sin(phi[j]);
});
const pzLoop = perDtype<PerObjectLoop>(([pt, eta], out, lo, hi) => {
  for (let j = lo; j < hi; j++) out[j] = pt[j] * Math.sinh(eta[j]);
});
const energyLoop = perDtype<PerObjectLoop>(([pt, eta, mass], out, lo, hi) => {
  for (let j = lo; j < hi; j++) {
    const p = pt[j] * Math.cosh(eta[j]);
    const m = mass[j];
    out[j] = Math.sqrt(p * p + m * m);
  }
});

/** pₓ = pt cos φ of every object, sharing the collection's offsets. */
export function px(c: Collection): Jagged<Float64Array> {
  return perObject('px', c, ['pt', 'phi'], pxLoop);
}

/** p_y = pt sin φ of every object. */
export function py(c: Collection): Jagged<Float64Array> {
  return perObject('py', c, ['pt', 'phi'], pyLoop);
}

/** p_z = pt sinh η of every object. */
export function pz(c: Collection): Jagged<Float64Array> {
  return perObject('pz', c, ['pt', 'eta'], pzLoop);
}

/** E = √(p² + m²) of every object. */
export function energy(c: Collection): Jagged<Float64Array> {
  return perObject('energy', c, ['pt', 'eta', 'mass'], energyLoop);
}

/** Range of candidates and the sources of each slot, checked once per call. */
interface Candidates {
  n: number;
  lo: number;
  hi: number;
  triples: boolean;
}

function candidates(
  operation: string,
  combos: Combinations,
  sources: readonly Collection[],
  fieldNames: readonly string[],
): Candidates {
  const n = eventsOf(operation, 'combinations', combos.offsets);
  const lo = combos.offsets[0];
  const hi = combos.offsets[n];
  const triples = combos.i2 !== undefined;
  const idx = triples ? [combos.i0, combos.i1, combos.i2 as Int32Array] : [combos.i0, combos.i1];
  for (let s = 0; s < idx.length; s++) {
    checkContent(operation, `index list i${s}`, combos.offsets, idx[s]);
    const src = sources[s];
    // No event-count check: combinations filtered with filterEvents keep indexing the unfiltered collection.
    // One pass per slot against the shortest field bounds every read of the kernel loop.
    let length = Infinity;
    for (const f of fieldNames) length = Math.min(length, fieldOf(operation, src, f).length);
    checkIndices(operation, s, idx[s], lo, hi, length);
  }
  return { n, lo, hi, triples };
}

function checkIndices(operation: string, slot: number, idx: Int32Array, lo: number, hi: number, length: number): void {
  let bad = -1;
  for (let k = lo; k < hi; k++) {
    if (idx[k] >>> 0 >= length) {
      bad = k;
      break;
    }
  }
  if (bad >= 0) {
    throw new InvalidArgumentError(
      `${operation}: index ${idx[bad]} of slot ${slot} (candidate ${bad}) is outside the collection (length ${length})`,
      { operation, slot, candidate: bad, index: idx[bad], length },
      'Pass the collections the combinations were built from, in the same order.',
    );
  }
}

/**
 * Invariant mass of the sum of each candidate's two or three four-vectors. Slot 0 reads `a`, slot 1 `b`
 * (default `a`), slot 2 `c` (default `b`). Negative m² from rounding gives 0.
 *
 * @example
 * ```ts
 * const mll = sumMass(oppositeChargePairs(muons), muons);       // Jagged<Float64Array>
 * const m3 = sumMass(combinations(jets, 3), jets);
 * ```
 */
export function sumMass(
  combos: Combinations,
  a: Collection,
  b: Collection = a,
  c: Collection = b,
): Jagged<Float64Array> {
  const op = 'sumMass';
  const { lo, hi, triples } = candidates(op, combos, [a, b, c], ['pt', 'eta', 'phi', 'mass']);
  const out = new Float64Array(hi);
  const A = p4Fields(op, a);
  const B = p4Fields(op, b);
  if (triples) {
    const C = p4Fields(op, c);
    massTriplesLoop(
      A.pt,
      A.eta,
      A.phi,
      A.mass,
      B.pt,
      B.eta,
      B.phi,
      B.mass,
      C.pt,
      C.eta,
      C.phi,
      C.mass,
    )(combos, A, B, C, out, lo, hi);
  } else massPairsLoop(A.pt, A.eta, A.phi, A.mass, B.pt, B.eta, B.phi, B.mass)(combos.i0, combos.i1, A, B, out, lo, hi);
  return { offsets: combos.offsets, content: out };
}

// One copy per combination of field dtypes (see specialize.ts); the fields are the key, in slot order.
const massPairsLoop = perDtype(function massPairs(
  i0: Int32Array,
  i1: Int32Array,
  A: PtEtaPhiM,
  B: PtEtaPhiM,
  out: Float64Array,
  lo: number,
  hi: number,
): void {
  const { pt: pa, eta: ea, phi: fa, mass: ma } = A;
  const { pt: pb, eta: eb, phi: fb, mass: mb } = B;
  for (let k = lo; k < hi; k++) {
    const x = i0[k];
    const y = i1[k];
    const pt1 = pa[x];
    const pt2 = pb[y];
    const px1 = pt1 * Math.cos(fa[x]);
    const py1 = pt1 * Math.sin(fa[x]);
    const pz1 = pt1 * Math.sinh(ea[x]);
    const px2 = pt2 * Math.cos(fb[y]);
    const py2 = pt2 * Math.sin(fb[y]);
    const pz2 = pt2 * Math.sinh(eb[y]);
    const m1 = ma[x];
    const m2 = mb[y];
    const e =
      Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m1 * m1) + Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m2 * m2);
    const sx = px1 + px2;
    const sy = py1 + py2;
    const sz = pz1 + pz2;
    const m2sum = e * e - sx * sx - sy * sy - sz * sz;
    out[k] = m2sum > 0 ? Math.sqrt(m2sum) : m2sum === m2sum ? 0 : NaN;
  }
});

const massTriplesLoop = perDtype(function massTriples(
  combos: Combinations,
  A: PtEtaPhiM,
  B: PtEtaPhiM,
  C: PtEtaPhiM,
  out: Float64Array,
  lo: number,
  hi: number,
): void {
  const { i0, i1 } = combos;
  const i2 = combos.i2 as Int32Array;
  const { pt: pa, eta: ea, phi: fa, mass: ma } = A;
  const { pt: pb, eta: eb, phi: fb, mass: mb } = B;
  const { pt: pc, eta: ec, phi: fc, mass: mc } = C;
  for (let k = lo; k < hi; k++) {
    const x = i0[k];
    const y = i1[k];
    const z = i2[k];
    const px1 = pa[x] * Math.cos(fa[x]),
      py1 = pa[x] * Math.sin(fa[x]),
      pz1 = pa[x] * Math.sinh(ea[x]);
    const px2 = pb[y] * Math.cos(fb[y]),
      py2 = pb[y] * Math.sin(fb[y]),
      pz2 = pb[y] * Math.sinh(eb[y]);
    const px3 = pc[z] * Math.cos(fc[z]),
      py3 = pc[z] * Math.sin(fc[z]),
      pz3 = pc[z] * Math.sinh(ec[z]);
    const m1 = ma[x],
      m2 = mb[y],
      m3 = mc[z];
    const e =
      Math.sqrt(px1 * px1 + py1 * py1 + pz1 * pz1 + m1 * m1) +
      Math.sqrt(px2 * px2 + py2 * py2 + pz2 * pz2 + m2 * m2) +
      Math.sqrt(px3 * px3 + py3 * py3 + pz3 * pz3 + m3 * m3);
    const sx = px1 + px2 + px3;
    const sy = py1 + py2 + py3;
    const sz = pz1 + pz2 + pz3;
    const m2sum = e * e - sx * sx - sy * sy - sz * sz;
    out[k] = m2sum > 0 ? Math.sqrt(m2sum) : m2sum === m2sum ? 0 : NaN;
  }
});

/**
 * Transverse momentum of the sum of each candidate's two or three objects (slot sources as in {@link sumMass}).
 *
 * @example
 * ```ts
 * const ptll = sumPt(pairs, muons);
 * ```
 */
export function sumPt(combos: Combinations, a: Collection, b: Collection = a, c: Collection = b): Jagged<Float64Array> {
  const op = 'sumPt';
  const { lo, hi, triples } = candidates(op, combos, [a, b, c], ['pt', 'phi']);
  const out = new Float64Array(hi);
  const pa = fieldOf(op, a, 'pt'),
    fa = fieldOf(op, a, 'phi');
  const pb = fieldOf(op, b, 'pt'),
    fb = fieldOf(op, b, 'phi');
  if (triples) {
    const pc = fieldOf(op, c, 'pt'),
      fc = fieldOf(op, c, 'phi');
    sumPtTriplesLoop(pa, fa, pb, fb, pc, fc)(
      combos.i0,
      combos.i1,
      combos.i2 as Int32Array,
      pa,
      fa,
      pb,
      fb,
      pc,
      fc,
      out,
      lo,
      hi,
    );
  } else sumPtPairsLoop(pa, fa, pb, fb)(combos.i0, combos.i1, pa, fa, pb, fb, out, lo, hi);
  return { offsets: combos.offsets, content: out };
}

type Arr = ArrayLike<number>;

const sumPtPairsLoop = perDtype(function sumPtPairs(
  i0: Int32Array,
  i1: Int32Array,
  pa: Arr,
  fa: Arr,
  pb: Arr,
  fb: Arr,
  out: Float64Array,
  lo: number,
  hi: number,
): void {
  for (let k = lo; k < hi; k++) {
    const x = i0[k],
      y = i1[k];
    const sx = pa[x] * Math.cos(fa[x]) + pb[y] * Math.cos(fb[y]);
    const sy = pa[x] * Math.sin(fa[x]) + pb[y] * Math.sin(fb[y]);
    out[k] = Math.sqrt(sx * sx + sy * sy);
  }
});

const sumPtTriplesLoop = perDtype(function sumPtTriples(
  i0: Int32Array,
  i1: Int32Array,
  i2: Int32Array,
  pa: Arr,
  fa: Arr,
  pb: Arr,
  fb: Arr,
  pc: Arr,
  fc: Arr,
  out: Float64Array,
  lo: number,
  hi: number,
): void {
  for (let k = lo; k < hi; k++) {
    const x = i0[k],
      y = i1[k],
      z = i2[k];
    const sx = pa[x] * Math.cos(fa[x]) + pb[y] * Math.cos(fb[y]) + pc[z] * Math.cos(fc[z]);
    const sy = pa[x] * Math.sin(fa[x]) + pb[y] * Math.sin(fb[y]) + pc[z] * Math.sin(fc[z]);
    out[k] = Math.sqrt(sx * sx + sy * sy);
  }
});

/**
 * The summed four-vector of each candidate as a new collection with Float64 `pt`, `eta`, `phi`, `mass` fields
 * (aligned with the combinations' offsets), so candidates can be combined again (Z → ℓℓ, then ZZ).
 * η of a sum with zero pt is ±Infinity (NaN if pz is also 0).
 *
 * @example
 * ```ts
 * const z = sumP4(oppositeChargePairs(muons), muons);
 * const best = argmin(abs(sub(field(z, 'mass'), 91.19)));   // local index of the candidate closest to m_Z
 * ```
 */
export function sumP4(combos: Combinations, a: Collection, b: Collection = a, c: Collection = b): Collection {
  const op = 'sumP4';
  const { lo, hi, triples } = candidates(op, combos, [a, b, c], ['pt', 'eta', 'phi', 'mass']);
  const pt = new Float64Array(hi);
  const eta = new Float64Array(hi);
  const phi = new Float64Array(hi);
  const mass = new Float64Array(hi);
  const slots = triples ? [p4Fields(op, a), p4Fields(op, b), p4Fields(op, c)] : [p4Fields(op, a), p4Fields(op, b)];
  const idx = triples ? [combos.i0, combos.i1, combos.i2 as Int32Array] : [combos.i0, combos.i1];
  // Accumulate the Cartesian sums slot by slot (one tight loop per slot), then convert once.
  const sx = new Float64Array(hi),
    sy = new Float64Array(hi),
    sz = new Float64Array(hi),
    se = new Float64Array(hi);
  for (let s = 0; s < slots.length; s++) {
    const { pt: P, eta: H, phi: F, mass: M } = slots[s];
    addP4Loop(P, H, F, M)(idx[s], P, H, F, M, sx, sy, sz, se, lo, hi);
  }
  for (let k = lo; k < hi; k++) {
    const x = sx[k],
      y = sy[k],
      z = sz[k],
      e = se[k];
    const t = Math.sqrt(x * x + y * y);
    pt[k] = t;
    eta[k] = Math.asinh(z / t);
    phi[k] = Math.atan2(y, x);
    const m2 = e * e - t * t - z * z;
    mass[k] = m2 > 0 ? Math.sqrt(m2) : m2 === m2 ? 0 : NaN;
  }
  return { offsets: combos.offsets, fields: { pt, eta, phi, mass } };
}

const addP4Loop = perDtype(function addP4(
  I: Int32Array,
  P: Arr,
  H: Arr,
  F: Arr,
  M: Arr,
  sx: Float64Array,
  sy: Float64Array,
  sz: Float64Array,
  se: Float64Array,
  lo: number,
  hi: number,
): void {
  for (let k = lo; k < hi; k++) {
    const x = I[k];
    const p = P[x],
      m = M[x];
    const qx = p * Math.cos(F[x]),
      qy = p * Math.sin(F[x]),
      qz = p * Math.sinh(H[x]);
    sx[k] += qx;
    sy[k] += qy;
    sz[k] += qz;
    se[k] += Math.sqrt(qx * qx + qy * qy + qz * qz + m * m);
  }
});

/**
 * Δφ between the two objects of each pair, wrapped to [−π, π) (slot 0 from `a`, slot 1 from `b`, default `a`).
 */
export function pairDeltaPhi(pairs: Combinations, a: Collection, b: Collection = a): Jagged<Float64Array> {
  const op = 'pairDeltaPhi';
  const { lo, hi } = candidates(op, pairs, [a, b], ['phi']);
  const fa = fieldOf(op, a, 'phi'),
    fb = fieldOf(op, b, 'phi');
  const { i0, i1 } = pairs;
  const out = new Float64Array(hi);
  pairDeltaPhiLoop(fa, fb)(i0, i1, fa, fb, out, lo, hi, wrapPhi);
  return { offsets: pairs.offsets, content: out };
}

// wrapPhi is passed in: a per-dtype copy sees only its parameters (see specialize.ts).
const pairDeltaPhiLoop = perDtype(function pairDeltaPhi(
  i0: Int32Array,
  i1: Int32Array,
  fa: Arr,
  fb: Arr,
  out: Float64Array,
  lo: number,
  hi: number,
  wrap: (d: number) => number,
): void {
  for (let k = lo; k < hi; k++) out[k] = wrap(fa[i0[k]] - fb[i1[k]]);
});

/**
 * ΔR between the two objects of each pair (slot 0 from `a`, slot 1 from `b`, default `a`).
 *
 * @example
 * ```ts
 * const jl = cartesian(jets, leptons);
 * const dr = pairDeltaR(jl, jets, leptons);     // aligned with jl.offsets
 * const clean = selectObjects(jl, gt(dr, 0.4));
 * ```
 */
export function pairDeltaR(pairs: Combinations, a: Collection, b: Collection = a): Jagged<Float64Array> {
  const op = 'pairDeltaR';
  const { lo, hi } = candidates(op, pairs, [a, b], ['eta', 'phi']);
  const ea = fieldOf(op, a, 'eta'),
    fa = fieldOf(op, a, 'phi');
  const eb = fieldOf(op, b, 'eta'),
    fb = fieldOf(op, b, 'phi');
  const { i0, i1 } = pairs;
  const out = new Float64Array(hi);
  pairDeltaRLoop(ea, fa, eb, fb)(i0, i1, ea, fa, eb, fb, out, lo, hi, wrapPhi);
  return { offsets: pairs.offsets, content: out };
}

const pairDeltaRLoop = perDtype(function pairDeltaR(
  i0: Int32Array,
  i1: Int32Array,
  ea: Arr,
  fa: Arr,
  eb: Arr,
  fb: Arr,
  out: Float64Array,
  lo: number,
  hi: number,
  wrap: (d: number) => number,
): void {
  for (let k = lo; k < hi; k++) {
    const x = i0[k],
      y = i1[k];
    const de = ea[x] - eb[y];
    const dp = wrap(fa[x] - fb[y]);
    out[k] = Math.sqrt(de * de + dp * dp);
  }
});

/**
 * Sum of the charges of each candidate's objects (read from field `field`, default `charge`), as Int32Array:
 * charges are integers, and `eq(sumCharge(...), 0)` selects neutral candidates.
 *
 * @example
 * ```ts
 * const neutral = eq(sumCharge(combinations(muons, 2), muons), 0);   // jagged mask over the pairs
 * ```
 */
export function sumCharge(
  combos: Combinations,
  a: Collection,
  b: Collection = a,
  c: Collection = b,
  field = 'charge',
): Jagged<Int32Array> {
  const op = 'sumCharge';
  const { lo, hi, triples } = candidates(op, combos, [a, b, c], [field]);
  const qa = fieldOf(op, a, field),
    qb = fieldOf(op, b, field);
  const { i0, i1 } = combos;
  const out = new Int32Array(hi);
  if (triples) {
    const qc = fieldOf(op, c, field);
    sumChargeTriplesLoop(qa, qb, qc)(i0, i1, combos.i2 as Int32Array, qa, qb, qc, out, lo, hi);
  } else sumChargePairsLoop(qa, qb)(i0, i1, qa, qb, out, lo, hi);
  return { offsets: combos.offsets, content: out };
}

const sumChargePairsLoop = perDtype(function sumChargePairs(
  i0: Int32Array,
  i1: Int32Array,
  qa: Arr,
  qb: Arr,
  out: Int32Array,
  lo: number,
  hi: number,
): void {
  for (let k = lo; k < hi; k++) out[k] = qa[i0[k]] + qb[i1[k]];
});

const sumChargeTriplesLoop = perDtype(function sumChargeTriples(
  i0: Int32Array,
  i1: Int32Array,
  i2: Int32Array,
  qa: Arr,
  qb: Arr,
  qc: Arr,
  out: Int32Array,
  lo: number,
  hi: number,
): void {
  for (let k = lo; k < hi; k++) out[k] = qa[i0[k]] + qb[i1[k]] + qc[i2[k]];
});
