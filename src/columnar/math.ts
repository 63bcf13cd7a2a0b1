/**
 * Element-wise arithmetic with broadcasting (see `elementwise.ts`): scalar, flat (per event) and jagged
 * (per object) operands mix freely. Results are Float64Array (Float64 math, no overflow of small int dtypes).
 *
 * @example
 * ```ts
 * const ptOverHt = div(jets.pt, ht);      // jagged / flat → jagged, ht repeated over each event's jets
 * const absEta = abs(jets.eta);
 * ```
 */
import { binaryKernel, unaryKernel } from './elementwise.ts';

/** a + b. */
export const add = binaryKernel('add', 'a + b', Float64Array);
/** a − b. */
export const sub = binaryKernel('sub', 'a - b', Float64Array);
/** a × b. */
export const mul = binaryKernel('mul', 'a * b', Float64Array);
/** a / b (IEEE: x/0 is ±Infinity, 0/0 is NaN). */
export const div = binaryKernel('div', 'a / b', Float64Array);
/** a ** b. */
export const pow = binaryKernel('pow', 'Math.pow(a, b)', Float64Array);
/** atan2(a, b) (a is y, b is x). */
export const atan2 = binaryKernel('atan2', 'Math.atan2(a, b)', Float64Array);
/** Element-wise minimum (NaN if either is NaN). */
export const minimum = binaryKernel('minimum', 'Math.min(a, b)', Float64Array);
/** Element-wise maximum (NaN if either is NaN). */
export const maximum = binaryKernel('maximum', 'Math.max(a, b)', Float64Array);

/** |a|. */
export const abs = unaryKernel('abs', 'Math.abs(a)', Float64Array);
/** −a. */
export const neg = unaryKernel('neg', '-a', Float64Array);
/** √a. */
export const sqrt = unaryKernel('sqrt', 'Math.sqrt(a)', Float64Array);
/** a². */
export const square = unaryKernel('square', 'a * a', Float64Array);
/** eᵃ. */
export const exp = unaryKernel('exp', 'Math.exp(a)', Float64Array);
/** ln a. */
export const log = unaryKernel('log', 'Math.log(a)', Float64Array);
/** sin a. */
export const sin = unaryKernel('sin', 'Math.sin(a)', Float64Array);
/** cos a. */
export const cos = unaryKernel('cos', 'Math.cos(a)', Float64Array);
/** sinh a. */
export const sinh = unaryKernel('sinh', 'Math.sinh(a)', Float64Array);
/** cosh a. */
export const cosh = unaryKernel('cosh', 'Math.cosh(a)', Float64Array);
