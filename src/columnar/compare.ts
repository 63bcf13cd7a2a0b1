/**
 * Element-wise comparisons with broadcasting (see `elementwise.ts`), producing boolean masks (Uint8Array of
 * 0/1; jagged masks share the jagged operand's offsets). IEEE semantics: every comparison with NaN is false
 * except `ne`, which is true.
 *
 * @example
 * ```ts
 * const goodJet = gt(jets.pt, 30);                  // jagged mask
 * const hardMuon = gt(muons.pt, leadingJetPt);      // jagged vs per-event flat → jagged mask
 * ```
 */
import { binaryKernel } from './elementwise.ts';

/** a > b. */
export const gt = binaryKernel('gt', 'a > b ? 1 : 0', Uint8Array);
/** a < b. */
export const lt = binaryKernel('lt', 'a < b ? 1 : 0', Uint8Array);
/** a ≥ b. */
export const ge = binaryKernel('ge', 'a >= b ? 1 : 0', Uint8Array);
/** a ≤ b. */
export const le = binaryKernel('le', 'a <= b ? 1 : 0', Uint8Array);
/** a = b. */
export const eq = binaryKernel('eq', 'a === b ? 1 : 0', Uint8Array);
/** a ≠ b (true when either is NaN). */
export const ne = binaryKernel('ne', 'a !== b ? 1 : 0', Uint8Array);
