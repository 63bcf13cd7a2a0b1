/**
 * HistFactory interpolation codes 0, 1, 2, 4 and 4p with their derivatives, as pyhf defines them.
 *
 * Each systematic gives per bin a down, nominal and up value. Additive codes (0, 2, 4p) produce a
 * shift of the nominal; multiplicative codes (1, 4) produce a factor. Either kind can be asked for
 * either form (shift = nominal·(factor − 1)), so normsys and histosys accept every code.
 * Coefficients are computed once per systematic; evaluation fills typed arrays.
 */

export type InterpCode = 'code0' | 'code1' | 'code2' | 'code4' | 'code4p';
export const INTERP_CODES: readonly InterpCode[] = ['code0', 'code1', 'code2', 'code4', 'code4p'];

/** Precomputed interpolation data of one systematic over `n` values. */
export interface InterpTable {
  readonly code: InterpCode;
  readonly n: number;
  readonly nom: Float64Array;
  /** Per-code coefficients, `stride` per value. */
  readonly c: Float64Array;
}

const STRIDE: Record<InterpCode, number> = { code0: 2, code1: 2, code2: 2, code4: 8, code4p: 4 };

/** Whether the code produces a factor (true) or a shift (false). */
export function isMultiplicative(code: InterpCode): boolean {
  return code === 'code1' || code === 'code4';
}

/**
 * Coefficients of the polynomial 1 + Σ a_i α^i (i = 1..6) that matches up^α at α = 1 and dn^(−α)
 * at α = −1 in value, first and second derivative (code 4 with α0 = 1).
 */
function code4Coefficients(up: number, dn: number, out: Float64Array, o: number): void {
  const lu = Math.log(up);
  const ld = Math.log(dn);
  const b0 = up - 1;
  const b1 = dn - 1;
  const b2 = lu * up;
  const b3 = -ld * dn;
  const b4 = lu * lu * up;
  const b5 = ld * ld * dn;
  out[o] = (15 * (b0 - b1) - 7 * (b2 + b3) + (b4 - b5)) / 16;
  out[o + 1] = (24 * (b0 + b1) - 9 * (b2 - b3) + (b4 + b5)) / 16;
  out[o + 2] = (-10 * (b0 - b1) + 10 * (b2 + b3) - 2 * (b4 - b5)) / 16;
  out[o + 3] = (-24 * (b0 + b1) + 14 * (b2 - b3) - 2 * (b4 + b5)) / 16;
  out[o + 4] = (3 * (b0 - b1) - 3 * (b2 + b3) + (b4 - b5)) / 16;
  out[o + 5] = (8 * (b0 + b1) - 5 * (b2 - b3) + (b4 + b5)) / 16;
}

/**
 * Builds the table of one systematic.
 *
 * @example
 * ```ts
 * import { makeInterpTable, interpolate } from 'ristretto/fit';
 * const t = makeInterpTable('code4p', [8], [10], [13]);
 * const v = new Float64Array(1), d = new Float64Array(1);
 * interpolate(t, 1.5, 'shift', v, d, 0); // v[0] = 4.5 (linear beyond α = 1)
 * ```
 */
export function makeInterpTable(
  code: InterpCode,
  lo: ArrayLike<number>,
  nom: ArrayLike<number>,
  hi: ArrayLike<number>,
): InterpTable {
  const n = nom.length;
  const s = STRIDE[code];
  const c = new Float64Array(n * s);
  const nomArr = Float64Array.from(nom);
  for (let i = 0; i < n; i++) {
    const l = lo[i];
    const m = nom[i];
    const h = hi[i];
    const o = i * s;
    switch (code) {
      case 'code0':
        c[o] = h - m;
        c[o + 1] = m - l;
        break;
      case 'code1':
        c[o] = Math.log(h / m);
        c[o + 1] = Math.log(l / m);
        break;
      case 'code2':
        c[o] = 0.5 * (h + l) - m;
        c[o + 1] = 0.5 * (h - l);
        break;
      case 'code4p':
        c[o] = h - m;
        c[o + 1] = m - l;
        c[o + 2] = 0.5 * (h - l);
        c[o + 3] = (h + l - 2 * m) / 16;
        break;
      case 'code4': {
        const up = h / m;
        const dn = l / m;
        c[o] = Math.log(up);
        c[o + 1] = Math.log(dn);
        code4Coefficients(up, dn, c, o + 2);
        break;
      }
    }
  }
  return { code, n, nom: nomArr, c };
}

/**
 * Evaluates the table at `alpha`: `form` 'shift' gives Δ (added to the nominal), 'factor' gives f
 * (multiplying it). Values go to `val[off..off+n)`, derivatives d/dα to `der[off..off+n)`.
 * The code is chosen once per call; each code has its own loop over the values.
 */
export function interpolate(
  t: InterpTable,
  alpha: number,
  form: 'shift' | 'factor',
  val: Float64Array,
  der: Float64Array,
  off: number,
): void {
  const { n, c } = t;
  switch (t.code) {
    case 'code0': {
      // The slope at α = 0 is the upper one, as a forward difference (pyhf's default numpy backend) sees it.
      const j = alpha >= 0 ? 0 : 1;
      for (let i = 0; i < n; i++) {
        const k = c[2 * i + j];
        val[off + i] = alpha * k;
        der[off + i] = k;
      }
      break;
    }
    case 'code1': {
      const up = alpha >= 0;
      const e = up ? alpha : -alpha;
      const j = up ? 0 : 1;
      const sign = up ? 1 : -1;
      for (let i = 0; i < n; i++) {
        const l = c[2 * i + j];
        const v = Math.exp(e * l);
        val[off + i] = v;
        der[off + i] = sign * v * l;
      }
      break;
    }
    case 'code2': {
      // Quadratic inside [-1, 1], continued linearly with matching value and slope outside.
      // (pyhf's code 2 drops the value at ±1 outside, which makes the likelihood jump there.)
      for (let i = 0; i < n; i++) {
        const a = c[2 * i];
        const b = c[2 * i + 1];
        if (alpha > 1) {
          val[off + i] = a + b + (b + 2 * a) * (alpha - 1);
          der[off + i] = b + 2 * a;
        } else if (alpha >= -1) {
          val[off + i] = a * alpha * alpha + b * alpha;
          der[off + i] = 2 * a * alpha + b;
        } else {
          val[off + i] = a - b + (b - 2 * a) * (alpha + 1);
          der[off + i] = b - 2 * a;
        }
      }
      break;
    }
    case 'code4p': {
      if (alpha > 1 || alpha < -1) {
        const j = alpha > 1 ? 0 : 1;
        for (let i = 0; i < n; i++) {
          const k = c[4 * i + j];
          val[off + i] = alpha * k;
          der[off + i] = k;
        }
      } else {
        const a2 = alpha * alpha;
        const pv = a2 * (15 + a2 * (3 * a2 - 10));
        const pd = alpha * (30 + a2 * (18 * a2 - 40));
        for (let i = 0; i < n; i++) {
          const S = c[4 * i + 2];
          const A = c[4 * i + 3];
          val[off + i] = alpha * S + A * pv;
          der[off + i] = S + A * pd;
        }
      }
      break;
    }
    case 'code4': {
      if (alpha >= 1 || alpha <= -1) {
        const up = alpha >= 1;
        const e = up ? alpha : -alpha;
        const j = up ? 0 : 1;
        const sign = up ? 1 : -1;
        for (let i = 0; i < n; i++) {
          const l = c[8 * i + j];
          const v = Math.exp(e * l);
          val[off + i] = v;
          der[off + i] = sign * v * l;
        }
      } else {
        const x = alpha;
        for (let i = 0; i < n; i++) {
          const o = 8 * i;
          const a1 = c[o + 2],
            a2 = c[o + 3],
            a3 = c[o + 4],
            a4 = c[o + 5],
            a5 = c[o + 6],
            a6 = c[o + 7];
          val[off + i] = 1 + x * (a1 + x * (a2 + x * (a3 + x * (a4 + x * (a5 + x * a6)))));
          der[off + i] = a1 + x * (2 * a2 + x * (3 * a3 + x * (4 * a4 + x * (5 * a5 + x * 6 * a6))));
        }
      }
      break;
    }
  }
  const mult = isMultiplicative(t.code);
  if (form === 'shift' && mult) {
    // Δ = nom (f − 1); a zero nominal stays zero.
    const nom = t.nom;
    for (let i = 0; i < n; i++) {
      const m = nom[i];
      val[off + i] = m === 0 ? 0 : m * (val[off + i] - 1);
      der[off + i] = m === 0 ? 0 : m * der[off + i];
    }
  } else if (form === 'factor' && !mult) {
    const nom = t.nom;
    for (let i = 0; i < n; i++) {
      const m = nom[i];
      val[off + i] = 1 + val[off + i] / m;
      der[off + i] = der[off + i] / m;
    }
  }
}
