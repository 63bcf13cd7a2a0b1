/**
 * The negative log-likelihood of a {@link Model} and its analytic gradient, over typed arrays.
 *
 * NLL(θ) = Σ_bins [λ_b − n_b ln λ_b + ln Γ(n_b + 1)]
 *        + Σ_normal [½((a − θ)/σ)² + ln(σ√(2π))] + Σ_poisson [θτ − a ln(θτ) + ln Γ(a + 1)]
 *
 * with λ_b = Σ_samples (nominal + Σ histosys shifts) × Π factors — pyhf's `-model.logpdf(θ, data)`.
 * A λ_b < 0 away from the nominal parameters is clipped to 0 (pyhf's `clip_bin_data=0`); the fit engine
 * refuses models negative at the nominal point and reports fits that end clipped (see rates.ts).
 */
import { interpolate, type InterpTable } from './interpolation.ts';
import type { Model, ModelData } from './model.ts';
import { lgamma } from './special.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/**
 * Reusable scratch memory for one model (not shared between threads), and the interpolation results
 * of the last evaluation.
 *
 * The histosys shifts are evaluated per parameter, not per modifier: the tables of all shift terms
 * of one parameter (and code) are joined into one, so a parameter with 40 terms is one call over 40
 * values. Each parameter's values are kept until that parameter changes, so a finite-difference
 * gradient (n + 1 evaluations that each move one parameter) interpolates only the moved one. The
 * sum nominal + Σ shifts of each sample bin keeps its partial sums, so only the part from the first
 * moved term on is added again. Every value is computed by the same arithmetic as one call per
 * term, and the shifts are added in the same order, so results are identical to the bit.
 */
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
  /** Offset of each shift term's values in shiftVal/shiftDer (contiguous per term). */
  readonly shiftOff: Int32Array;
  /** Joined tables, one per (parameter, code) group: its parameter and its offset in shiftVal. */
  readonly groups: readonly { par: number; table: InterpTable; off: number }[];
  /** The parameter value each group was last evaluated at (valid where groupDone is 1). */
  readonly groupAlpha: Float64Array;
  readonly groupDone: Uint8Array;
  /** Scalar factors likewise: last parameter value of each interpolated factor. */
  readonly factAlpha: Float64Array;
  readonly factDone: Uint8Array;
  /**
   * The shifts of each sample bin k in term order (compressed rows): base[k] = nominal +
   * shiftVal[rowSrc[e]] for e in [rowStart[k], rowStart[k+1]), summed left to right; partial[e] is
   * the sum up to and including entry e.
   */
  readonly rowStart: Int32Array;
  readonly rowSrc: Int32Array;
  readonly partial: Float64Array;
  /** Per group: the rows it touches and the first entry of the group in each (groupRowStart-indexed). */
  readonly groupRowStart: Int32Array;
  readonly groupRow: Int32Array;
  readonly groupFirst: Int32Array;
  /** Per row: the first entry to add again in this evaluation (rowStart[k+1] = nothing to do). */
  readonly redoFrom: Int32Array;
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
    // Group the shift terms by (parameter, code), keeping term order inside each group.
    const st = model.shiftTerms;
    const byKey = new Map<string, number[]>();
    st.forEach((t, i) => {
      const key = `${t.par}/${t.table.code}`;
      const list = byKey.get(key);
      if (list) list.push(i);
      else byKey.set(key, [i]);
    });
    this.shiftOff = new Int32Array(st.length);
    const groups: { par: number; table: InterpTable; off: number }[] = [];
    let total = 0;
    for (const terms of byKey.values()) {
      const off = total;
      for (const i of terms) {
        this.shiftOff[i] = total;
        total += st[i].table.n;
      }
      groups.push({ par: st[terms[0]].par, table: joinTables(terms.map((i) => st[i].table)), off });
    }
    this.groups = groups;
    this.groupAlpha = new Float64Array(groups.length);
    this.groupDone = new Uint8Array(groups.length);
    // Rows: count the entries of each sample bin, then fill them in term order.
    const groupOf = new Int32Array(total);
    groups.forEach((g, gi) => groupOf.fill(gi, g.off, g.off + g.table.n));
    this.rowStart = new Int32Array(nsb + 1);
    for (const t of st) for (let j = 0; j < t.table.n; j++) this.rowStart[t.k0 + j + 1]++;
    for (let k = 0; k < nsb; k++) this.rowStart[k + 1] += this.rowStart[k];
    this.rowSrc = new Int32Array(total);
    const fill = this.rowStart.slice(0, nsb);
    st.forEach((t, i) => {
      for (let j = 0; j < t.table.n; j++) this.rowSrc[fill[t.k0 + j]++] = this.shiftOff[i] + j;
    });
    this.partial = new Float64Array(total);
    // For each group, the first entry it has in each row it touches.
    const firsts = groups.map(() => new Map<number, number>());
    for (let k = 0; k < nsb; k++)
      for (let e = this.rowStart[k]; e < this.rowStart[k + 1]; e++) {
        const f = firsts[groupOf[this.rowSrc[e]]];
        if (!f.has(k)) f.set(k, e);
      }
    this.groupRowStart = new Int32Array(groups.length + 1);
    firsts.forEach((f, gi) => (this.groupRowStart[gi + 1] = this.groupRowStart[gi] + f.size));
    this.groupRow = new Int32Array(this.groupRowStart[groups.length]);
    this.groupFirst = new Int32Array(this.groupRow.length);
    firsts.forEach((f, gi) => {
      let o = this.groupRowStart[gi];
      for (const [k, e] of f) {
        this.groupRow[o] = k;
        this.groupFirst[o++] = e;
      }
    });
    this.redoFrom = this.rowStart.slice(1);
    // Sample bins without shifts keep their nominal; the others are summed at the first evaluation.
    this.base.set(model.sbNom);
    this.shiftVal = new Float64Array(total);
    this.shiftDer = new Float64Array(total);
    this.factVal = new Float64Array(model.scalarFactors.length);
    this.factDer = new Float64Array(model.scalarFactors.length);
    this.factAlpha = new Float64Array(model.scalarFactors.length);
    this.factDone = new Uint8Array(model.scalarFactors.length);
  }
}

/** One table holding the values of several tables of the same code, in order. */
function joinTables(tables: InterpTable[]): InterpTable {
  if (tables.length === 1) return tables[0];
  const n = tables.reduce((a, t) => a + t.n, 0);
  const nom = new Float64Array(n);
  const c = new Float64Array(tables.reduce((a, t) => a + t.c.length, 0));
  let o = 0,
    oc = 0;
  for (const t of tables) {
    nom.set(t.nom, o);
    c.set(t.c, oc);
    o += t.n;
    oc += t.c.length;
  }
  return { code: tables[0].code, n, nom, c };
}

/** Fills ws.base (nominal + shifts), ws.prodNZ / ws.zeros (factor products) and ws.lambda. */
function forward(ws: NllWorkspace, pars: Float64Array): void {
  const m = ws.model;
  const { base, prodNZ, zeros, lambda, shiftVal, shiftDer, factVal, factDer } = ws;
  const { groups, groupAlpha, groupDone, groupRowStart, groupRow, groupFirst, redoFrom } = ws;
  for (let g = 0; g < groups.length; g++) {
    const a = pars[groups[g].par];
    // Object.is: a parameter that moved from 0 to −0 is evaluated again (the sign can reach a value).
    if (groupDone[g] === 1 && Object.is(groupAlpha[g], a)) continue;
    interpolate(groups[g].table, a, 'shift', shiftVal, shiftDer, groups[g].off);
    groupAlpha[g] = a;
    groupDone[g] = 1;
    for (let r = groupRowStart[g]; r < groupRowStart[g + 1]; r++)
      if (groupFirst[r] < redoFrom[groupRow[r]]) redoFrom[groupRow[r]] = groupFirst[r];
  }
  // base[k] = nominal + shifts in term order, from the partial sum before the first changed shift.
  const { rowStart, rowSrc, partial } = ws;
  const sbNom = m.sbNom;
  for (let k = 0; k < base.length; k++) {
    const end = rowStart[k + 1];
    const from = redoFrom[k];
    if (from === end) continue;
    let acc = from === rowStart[k] ? sbNom[k] : partial[from - 1];
    for (let e = from; e < end; e++) {
      acc += shiftVal[rowSrc[e]];
      partial[e] = acc;
    }
    base[k] = acc;
    redoFrom[k] = end;
  }
  prodNZ.fill(1);
  zeros.fill(0);
  const sf = m.scalarFactors;
  const { factAlpha, factDone } = ws;
  for (let t = 0; t < sf.length; t++) {
    const term = sf[t];
    let v: number;
    if (term.table) {
      const a = pars[term.par];
      if (factDone[t] !== 1 || !Object.is(factAlpha[t], a)) {
        interpolate(term.table, a, 'factor', factVal, factDer, t);
        factAlpha[t] = a;
        factDone[t] = 1;
      }
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
    // A negative rate is clipped to 0 (pyhf's clip_bin_data=0): flat there, so the minimizer is led back
    // to rates ≥ 0; with events observed a rate ≤ 0 has no likelihood at all (+∞).
    const raw = lambda[b];
    const l = raw < 0 ? 0 : raw;
    const nb = n[b];
    if ((l === 0 && nb > 0) || !Number.isFinite(l)) return Infinity;
    f += l - xlogy(nb, l);
    w[b] = raw < 0 ? 0 : l === 0 ? 1 : 1 - nb / l;
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
    const l = lambda[b] < 0 ? 0 : lambda[b]; // clipped as in nll()
    const nb = n[b];
    if ((l === 0 && nb > 0) || !Number.isFinite(l)) return Infinity;
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
