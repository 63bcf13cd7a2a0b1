/**
 * Ristretto: everything a processor needs, from one specifier.
 *
 * - the processor contract (`defineProcessor`, `Processor`, `ProcessContext`) and the events types;
 * - the columnar kernels (selections, reductions, combinations, four-vector math) — also as the
 *   namespace `ak` for code written the awkward-array way;
 * - histograms after boost-histogram (`Hist`, axes, storages, UHI JSON);
 * - accumulators and per-chunk helpers (`PackedSelection`, `Weights`, `accumulate`).
 *
 * Reading files, plotting and running analyses live in `ristretto/io`, `ristretto/plot` and the
 * `run-analysis` command; a processor does not need them.
 *
 * @example
 * ```ts
 * import { defineProcessor, Hist, Regular, StrCategory, and, any, ge, le, filterEvents, oppositeChargePairs, sumMass } from 'ristretto';
 *
 * export default defineProcessor({
 *   accumulator: () => ({
 *     met: new Hist(new StrCategory([], { name: 'dataset', growth: true }), new Regular(50, 0, 200, { name: 'met', label: 'E_{T}^{miss} [GeV]' })),
 *   }),
 *   process(events, ctx) {
 *     const out = this.accumulator();
 *     const mass = sumMass(oppositeChargePairs(events.Muon), events.Muon);
 *     const hasZ = any(and(ge(mass, 60), le(mass, 120)));
 *     out.met.fill(ctx.dataset, filterEvents(events.MET.pt, hasZ));
 *     return out;
 *   },
 * });
 * ```
 */
export { defineProcessor, type Processor, type ProcessContext, type ProcessorDefinition } from './processor/types.ts';
export type {
  Events,
  EventsBase,
  EventsEntry,
  EventCollection,
  CollectionView,
  FlatRecord,
  VectorKind,
} from './events/types.ts';
export * from './columnar/index.ts';
export * as ak from './columnar/index.ts';
export * from './hist/index.ts';
export * from './accumulate/index.ts';
export { EntryRangeError, MissingColumnError, RistrettoError, UserCodeError } from './errors/index.ts';
