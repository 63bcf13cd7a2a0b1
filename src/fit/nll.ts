/**
 * The negative log-likelihood of a {@link Model} and its analytic gradient, over typed arrays.
 *
 * NLL(θ) = Σ_bins [λ_b − n_b ln λ_b + ln Γ(n_b + 1)]
 *        + Σ_normal [½((a − θ)/σ)² + ln(σ√(2π))] + Σ_poisson [θτ − a ln(θτ) + ln Γ(a + 1)]
 *
 * with λ_b = Σ_samples (nominal + Σ histosys shifts) × Π factors — pyhf's `-model.logpdf(θ, data)`.
 */
import { interpolate } from './interpolation.ts';
import type { Model, ModelData } from './model.ts';
import { lgamma } from './special.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** Reusable scratch memory for one model (not shared between threads). */
export class NllWorkspace {
  readonly base: Float64Array;
  readonly prodNZ: Float64Array;
  readonly zeros: Int32Array;
  readonly lambda: Float64Array;
  readonly w: Float64Array;
  readonly shiftVal: Float64Array;
  readonly shiftDer: Float64Array;
  readonly factVal: Float64Array;
  readonly factDer: Float64Array;
  /** Offsets of each shift term in shiftVal. */
  readonly shiftOff: Int32Array;
  /** Constant part Σ ln Γ(n+1) of the current main data, cached by identity. */
  constMain = 0;
  constFor: Float64Array | null = null;
  constAux = 0;
  constAuxFor: Float64Array | null = null;

  constructor(readonly model: Model) {
    const nsb = model.sbNom.length;
    this.base = new Float64Array(nsb);
    this.prodNZ = new Float64Array(nsb);
    this.zeros = new Int32Array(nsb);
    this.lambda = new Float64Array(model.nbins);
    this.w = new Float64Array(model.nbins);
    let total = 0;
    this.shiftOff = new Int32Array(model.shiftTerms.length);
    model.shiftTerms.forEach((t, i) => {
      this.shiftOff[i] = total;
      total += t.table.n;
    });
    this.shiftVal = new Float64Array(total);
    this.shiftDer = new Float64Array(total);
    this.factVal = new Float64Array(model.scalarFactors.length);
    this.factDer = new Float64Array(model.scalarFactors.length);
  }
}

/** Fills ws.base (nominal + shifts), ws.prodNZ / ws.zeros (factor products) and ws.lambda. */
function forward(ws: NllWorkspace, pars: Float64Array): void {
  const m = ws.model;
  const { base, prodNZ, zeros, lambda, shiftVal, shiftDer, factVal, factDer } = ws;
  base.set(m.sbNom);
  prodNZ.fill(1);
  zeros.fill(0);
  const st = m.shiftTerms;
  for (let t = 0; t < st.length; t++) {
    const term = st[t];
    const off = ws.shiftOff[t];
    interpolate(term.table, pars[term.par], 'shift', shiftVal, shiftDer, off);
    const n = term.table.n;
    const k0 = term.k0;
    for (let i = 0; i < n; i++) base[k0 + i] += shiftVal[off + i];
  }
  const sf = m.scalarFactors;
  for (let t = 0; t < sf.length; t++) {
    const term = sf[t];
    let v: number;
    if (term.table) {
      interpolate(term.table, pars[term.par], 'factor', factVal, factDer, t);
      v = factVal[t];
    } else {
      v = pars[term.par];
      factDer[t] = 1;
    }
    factVal[t] = v;
    const end = term.k0 + term.n;
    if (v === 0) for (let k = term.k0; k < end; k++) zeros[k]++;
    else for (let k = term.k0; k < end; k++) prodNZ[k] *= v;
  }
  const bf = m.binFactors;
  for (let t = 0; t < bf.length; t++) {
    const { k0, pars: idx } = bf[t];
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i];
      if (p < 0) continue;
      const v = pars[p];
      if (v === 0) zeros[k0 + i]++;
      else prodNZ[k0 + i] *= v;
    }
  }
  lambda.fill(0);
  const sbBin = m.sbBin;
  for (let k = 0; k < sbBin.length; k++) {
    if (zeros[k] === 0) lambda[sbBin[k]] += base[k] * prodNZ[k];
  }
}

/** Main-model expectation λ(θ) (sorted channel order). */
export function expectedMain(model: Model, pars: Float64Array, ws = new NllWorkspace(model)): Float64Array {
  forward(ws, pars);
  return ws.lambda.slice();
}

/** Expected auxiliary data: θ for normal constraints, θτ for Poisson constraints. */
export function expectedAux(model: Model, pars: Float64Array): Float64Array {
  const out = new Float64Array(model.auxPar.length);
  for (let j = 0; j < out.length; j++) {
    const th = pars[model.auxPar[j]];
    out[j] = model.auxType[j] === 0 ? th : th * model.auxScale[j];
  }
  return out;
}

/** pyhf's `model.expected_data(θ)`: main and auxiliary expectation. */
export function expectedData(model: Model, pars: Float64Array): ModelData {
  return { main: expectedMain(model, pars), aux: expectedAux(model, pars) };
}

function xlogy(x: number, y: number): number {
  return x === 0 ? 0 : x * Math.log(y);
}

/**
 * NLL at `pars`; when `grad` is given, also fills it with dNLL/dθ (all parameters, fixed ones too).
 * Returns +Infinity where a main-bin expectation is negative (or zero with observed events).
 *
 * @example
 * ```ts
 * import { buildModel } from 'ristretto/fit';
 * import { nll, NllWorkspace, uncorrelatedBackground } from 'ristretto/fit';
 * const spec = uncorrelatedBackground([12, 11], [50, 52], [3, 7], [51, 48]);
 * const model = buildModel(spec);
 * const g = new Float64Array(model.npars);
 * const value = nll(new NllWorkspace(model), model.observedData(), model.suggestedInit(), g);
 * ```
 */
export function nll(ws: NllWorkspace, data: ModelData, pars: Float64Array, grad?: Float64Array): number {
  const m = ws.model;
  forward(ws, pars);
  const { lambda, w } = ws;
  const n = data.main;
  if (ws.constFor !== n) {
    let c = 0;
    for (let b = 0; b < n.length; b++) c += lgamma(n[b] + 1);
    ws.constMain = c;
    ws.constFor = n;
  }
  let f = ws.constMain;
  for (let b = 0; b < lambda.length; b++) {
    const l = lambda[b];
    const nb = n[b];
    if (l < 0 || (l === 0 && nb > 0) || !Number.isFinite(l)) return Infinity;
    f += l - xlogy(nb, l);
    w[b] = l === 0 ? 1 : 1 - nb / l;
  }
  const aux = data.aux;
  if (ws.constAuxFor !== aux) {
    let c = 0;
    for (let j = 0; j < aux.length; j++) {
      c += m.auxType[j] === 0 ? Math.log(m.auxScale[j]) + LOG_SQRT_2PI : lgamma(aux[j] + 1);
    }
    ws.constAux = c;
    ws.constAuxFor = aux;
  }
  f += ws.constAux;
  const { auxPar, auxType, auxScale } = m;
  for (let j = 0; j < auxPar.length; j++) {
    const th = pars[auxPar[j]];
    const a = aux[j];
    if (auxType[j] === 0) {
      const z = (a - th) / auxScale[j];
      f += 0.5 * z * z;
    } else {
      const r = th * auxScale[j];
      if (r <= 0) return Infinity;
      f += r - xlogy(a, r);
    }
  }
  if (grad) gradient(ws, data, pars, grad);
  return f;
}

/**
 * −2 ln L as pyhf sums it: the Poisson log-pmf of each main bin (n ln λ − λ − ln Γ(n+1)) summed,
 * plus the constraint log-densities (normal: −((a − θ)/(√2 σ))² − ln(σ√(2π)); Poisson: a ln(θτ) −
 * θτ − ln Γ(a+1)), times −2. Mathematically equal to `2 * nll(...)`; the term order is pyhf's
 * because the 'slsqp' optimizer differentiates by finite differences, which see the rounding of
 * the sum (~1e-13 here), and follows pyhf's iterates more closely when the rounding is alike.
 */
export function twiceNllPyhfOrder(ws: NllWorkspace, data: ModelData, pars: Float64Array): number {
  const m = ws.model;
  forward(ws, pars);
  const { lambda } = ws;
  const n = data.main;
  let main = 0;
  for (let b = 0; b < lambda.length; b++) {
    const l = lambda[b];
    const nb = n[b];
    if (l < 0 || (l === 0 && nb > 0) || !Number.isFinite(l)) return Infinity;
    main += xlogy(nb, l) - l - lgamma(nb + 1);
  }
  const aux = data.aux;
  const { auxPar, auxType, auxScale } = m;
  let normal = 0;
  let poisson = 0;
  for (let j = 0; j < auxPar.length; j++) {
    const th = pars[auxPar[j]];
    const a = aux[j];
    if (auxType[j] === 0) {
      const sg = auxScale[j];
      const z = (a - th) / (Math.SQRT2 * sg);
      normal += -Math.log(sg * SQRT_2PI) - z * z;
    } else {
      const r = th * auxScale[j];
      if (r <= 0) return Infinity;
      poisson += xlogy(a, r) - r - lgamma(a + 1);
    }
  }
  return -2 * (main + (normal + poisson));
}

function gradient(ws: NllWorkspace, data: ModelData, pars: Float64Array, grad: Float64Array): void {
  const m = ws.model;
  const { base, prodNZ, zeros, w, shiftDer, factVal, factDer } = ws;
  const sbBin = m.sbBin;
  grad.fill(0);
  // histosys: dλ/dα = (product of factors) × dΔ/dα
  const st = m.shiftTerms;
  for (let t = 0; t < st.length; t++) {
    const term = st[t];
    const off = ws.shiftOff[t];
    const k0 = term.k0;
    let g = 0;
    for (let i = 0; i < term.table.n; i++) {
      const k = k0 + i;
      if (zeros[k] !== 0) continue;
      g += w[sbBin[k]] * prodNZ[k] * shiftDer[off + i];
    }
    grad[term.par] += g;
  }
  // scalar factors: dλ/dθ = base × (product of the other factors) × df/dθ
  const sf = m.scalarFactors;
  for (let t = 0; t < sf.length; t++) {
    const term = sf[t];
    const v = factVal[t];
    let g = 0;
    const end = term.k0 + term.n;
    for (let k = term.k0; k < end; k++) {
      const z = zeros[k];
      let others: number;
      if (v !== 0) others = z === 0 ? prodNZ[k] / v : 0;
      else others = z === 1 ? prodNZ[k] : 0;
      g += w[sbBin[k]] * base[k] * others;
    }
    grad[term.par] += g * factDer[t];
  }
  const bf = m.binFactors;
  for (let t = 0; t < bf.length; t++) {
    const { k0, pars: idx } = bf[t];
    for (let i = 0; i < idx.length; i++) {
      const p = idx[i];
      if (p < 0) continue;
      const k = k0 + i;
      const v = pars[p];
      const z = zeros[k];
      let others: number;
      if (v !== 0) others = z === 0 ? prodNZ[k] / v : 0;
      else others = z === 1 ? prodNZ[k] : 0;
      grad[p] += w[sbBin[k]] * base[k] * others;
    }
  }
  const { auxPar, auxType, auxScale } = m;
  const aux = data.aux;
  for (let j = 0; j < auxPar.length; j++) {
    const p = auxPar[j];
    const th = pars[p];
    if (auxType[j] === 0) {
      const s = auxScale[j];
      grad[p] += (th - aux[j]) / (s * s);
    } else {
      grad[p] += auxScale[j] - (aux[j] === 0 ? 0 : aux[j] / th);
    }
  }
}
