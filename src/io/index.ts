/**
 * Reading and converting event files outside a processor: open a ROOT, Parquet or Arrow file as an
 * `EventReader`, list its branches, read columns for an entry range, run a function over its events;
 * write ROOT files (a TTree with `RootTreeWriter` or `convert`, histograms with `writeHistogramsROOT`).
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
export { stringsOf } from './reader.ts';
export { convert, type ConvertOptions, type ConvertResult, type ConvertFormat } from './convert.ts';
export { writeHistogramsROOT, type WriteHistogramsOptions, type WrittenHistogram } from './root-write/hist.ts';
export { RootTreeWriter, defaultCounterName, type TreeColumn, type TreeWriterOptions } from './root-write/tree.ts';
export { RootWriteError } from './root-write/file.ts';
export { prepareCompression, type Compression, type RootCodec } from './root-write/compress.ts';
export { ZstdUnavailableError } from './root-write/zstd.ts';
export { codecDecoders } from './codecs/native.ts';
export { CodecError } from './codecs/errors.ts';
export { runOnEvents, type RunOptions, type RunResult } from '../events/run.ts';
