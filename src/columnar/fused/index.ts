/**
 * Fused columnar expressions: analysis code written like coffea/awkward, run as one generated loop per sink.
 *
 * @example
 * ```ts
 * import { compute, fused } from 'ristretto';
 *
 * const ev = fused(events);
 * const mu = ev.Muon;
 * const hasZ = mu.pairs().any((a, b) => a.charge.ne(b.charge).and(a.p4.add(b.p4).mass.between(60, 120)));
 * out.met.fill(compute(ev.MET.pt.where(hasZ)));
 * ```
 */
export {
  Expr,
  LazyObjects,
  LorentzVector,
  Candidates,
  Best,
  fused,
  compute,
  concat,
  lazyObjects,
  lazyColumn,
  deltaPhi,
  deltaR,
  transverseMass,
  maximum,
  minimum,
} from './api.ts';
export type { ExprLike, Objects, FusedEvents } from './api.ts';
export { compiledLoops } from './compile.ts';
export { BinnedLookup } from './lookup.ts';
export type { NestedNumbers } from './lookup.ts';
