/**
 * What the ADL benchmark processors share: the one histogram each task fills (a Regular axis with flow bins,
 * named like the task so outputs line up with the published references), and small helpers for the fused loops.
 *
 * Processors import the histogram modules directly rather than src/hist/index.ts: the index also re-exports
 * the plotting and ROOT conversion, which import jsroot, and would put jsroot into every processor bundle.
 */
import { Hist, Regular } from 'ristretto';

/** A 1-D histogram for ADL task `name` over `bins` equal bins in [lo, hi), with underflow and overflow. */
export function adlHist(name: string, bins: number, lo: number, hi: number, axisName: string, label: string): Hist {
  return new Hist(new Regular(bins, lo, hi, { name: axisName, label }), { name, label });
}

/** Grows a scratch buffer to at least `n` elements (contents not kept); used for per-event object lists. */
export function atLeast(buf: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  return buf.length >= n ? buf : new Float64Array(Math.max(n, 2 * buf.length));
}
