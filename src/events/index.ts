/**
 * The events layer: NanoAOD-shaped, lazily loaded views of a reader's columns, and `runOnEvents`, which
 * runs a processor over a chunk and loads exactly the columns it touches.
 *
 * ```ts
 * const { result, columnsRead } = await runOnEvents(reader, 0, 100_000, (events) => {
 *   const mu = events.Muon;              // collection: offsets, fields, counts, pt/eta/... as Jagged
 *   const pt = mu.pt.content;            // hoist column access out of loops: each access is logged
 *   const met = events.MET.pt;           // record of flat columns
 *   const matched = events.Jet.muonIdx1G; // link field → global indices into Muon contents (−1: none)
 *   return fillSomething(mu.offsets, pt, met, matched);   // called once per chunk: printing and counting are fine
 * }, { prefetch: columnsFromAnEarlierChunk });
 * ```
 *
 * The processor runs exactly once per call; a column it touches that was not prefetched is read on the
 * spot (synchronously; for files through a helper thread). Caveats: spreading,
 * `JSON.stringify` or `Object.entries` over `events` or a collection's `fields` touches, and so loads,
 * every branch listed; `'name' in events.X` probes without loading.
 */
export { runOnEvents } from './run.ts';
export type { RunOptions, RunResult } from './run.ts';
export type {
  Events,
  EventsBase,
  EventsEntry,
  EventCollection,
  CollectionView,
  FlatRecord,
  VectorKind,
} from './types.ts';
export { buildNanoSchema, nanoSchemaOf, linkTarget } from './nanoaod.ts';
export type { NanoSchema, CollectionSchema, RecordSchema } from './nanoaod.ts';
export { globalIndex, offsetsFromCounts, countsFromOffsets } from './crossref.ts';
export {
  ColumnNotLoadedError,
  MissingBranchError,
  SyncReadUnavailableError,
  ColumnShapeMismatchError,
  InvalidEntryRangeError,
  DefineError,
} from './errors.ts';
export { closestNames } from '../errors/suggest.ts';
