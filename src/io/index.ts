/**
 * Reading and converting event files outside a processor: open a ROOT, Parquet or Arrow file as an
 * `EventReader`, list its branches, read columns for an entry range, run a function over its events.
 *
 * @example
 * ```ts
 * import { openReader, runOnEvents } from 'ristretto/io';
 * const reader = await openReader('events.root');           // the file's only tree, or Events
 * const { result } = await runOnEvents(reader, 0, reader.numEntries, (events) => events.nMuon.length);
 * await reader.close();
 * ```
 */
export { openReader, registerFormat, registeredFormats, UnsupportedFormatError, type FormatOpener } from './open.ts';
export type { EventReader, BranchInfo, Column, DType, OpenOptions } from './reader.ts';
export { convert, type ConvertOptions, type ConvertResult, type ConvertFormat } from './convert.ts';
export { runOnEvents, type RunOptions, type RunResult } from '../events/run.ts';
