/**
 * Combining boolean masks (Uint8Array, flat or jagged) with broadcasting: an event mask (flat) combined with an
 * object mask (jagged) gives an object mask. Any non-zero byte counts as true; results are 0/1.
 *
 * @example
 * ```ts
 * const sel = and(gt(jets.pt, 30), lt(abs(jets.eta), 2.4));
 * const veto = not(sel);
 * ```
 */
import { binaryKernel, unaryKernel } from './elementwise.ts';

/** a AND b. */
export const and = binaryKernel('and', 'a !== 0 && b !== 0 ? 1 : 0', Uint8Array);
/** a OR b. */
export const or = binaryKernel('or', 'a !== 0 || b !== 0 ? 1 : 0', Uint8Array);
/** a XOR b. */
export const xor = binaryKernel('xor', '(a !== 0) !== (b !== 0) ? 1 : 0', Uint8Array);
/** NOT a. */
export const not = unaryKernel('not', 'a === 0 ? 1 : 0', Uint8Array);
