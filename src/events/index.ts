/**
 * The events layer: NanoAOD-shaped, lazily loaded views of a reader's columns, and `runOnEvents`, which
 * runs a processor over a chunk and loads exactly the columns it touches.
 */
export { runOnEvents, DEFAULT_MAX_PASSES } from './run.ts';
export type { RunOptions, RunResult } from './run.ts';
export type { Events, EventsBase, EventsEntry, EventCollection, CollectionView, FlatRecord, VectorKind } from './types.ts';
export { buildNanoSchema, nanoSchemaOf, linkTarget } from './nanoaod.ts';
export type { NanoSchema, CollectionSchema, RecordSchema } from './nanoaod.ts';
export { globalIndex, offsetsFromCounts, countsFromOffsets } from './crossref.ts';
export { ColumnNotLoaded, BranchNotFound, TooManyPasses, ColumnShapeMismatch, InvalidEntryRange } from './errors.ts';
export { closestNames } from './closest.ts';
