/**
 * Running a processor over a chunk with lazily loaded columns.
 *
 * Processors read columns synchronously (`events.Muon.pt`) while readers are async. `runOnEvents` reads
 * the columns it is told about (`prefetch`) up front, asynchronously, in one reader call, then calls
 * the processor exactly once; a column the processor touches that was not prefetched is read on the
 * spot with the reader's `readSync` (for files, through a helper thread: see io/sync-read.ts). The
 * branches used are returned (`columnsRead`) so a runner can prefetch them for the next chunks of the
 * same processor, which then never wait on a synchronous read.
 */
import type { EventReader } from '../io/reader.ts';
import { ensureSyncReads } from '../io/sync-read.ts';
import { isEntryRange } from '../errors/index.ts';
import { InvalidEntryRangeError } from './errors.ts';
import { nanoSchemaOf } from './nanoaod.ts';
import { ColumnStore } from './store.ts';
import type { Events } from './types.ts';
import { createEventsView } from './view.ts';

export interface RunOptions {
  /** Branches to read up front (typically `columnsRead` of an earlier chunk). Names the file lacks are ignored. */
  prefetch?: Iterable<string>;
}

export interface RunResult<R> {
  /** What the processor returned. */
  result: R;
  /** Every branch read for this chunk, sorted (prefetched and read on access). */
  columnsRead: string[];
  /** Branches the processor actually touched, sorted; a subset of `columnsRead` (a tighter prefetch). */
  columnsAccessed: string[];
  /** Branches that were not prefetched and were read synchronously when first touched, sorted. */
  columnsReadOnAccess: string[];
  /** Growth of `reader.bytesRead` during the call (shared readers used concurrently inflate it). */
  bytesRead: number;
}

/**
 * Call `fn` once on the events of `[entryStart, entryStop)`, loading the columns it touches.
 *
 * `fn` runs exactly once per call, so it may print, count and have side effects. Do not keep `events`
 * beyond the call: columns not loaded by then are no longer read (`ColumnNotLoadedError`). Errors `fn` throws
 * are rethrown untouched; a failed read of a column it touched surfaces as the reader's error.
 *
 * The reader should implement `readSync`, or be a file `openReader` can open again (misses are then read
 * by a helper thread); otherwise every branch `fn` touches must be in `prefetch`.
 */
export async function runOnEvents<R>(
  reader: EventReader,
  entryStart: number,
  entryStop: number,
  fn: (events: Events) => R | Promise<R>,
  opts: RunOptions = {},
): Promise<RunResult<R>> {
  if (!isEntryRange(entryStart, entryStop, reader.numEntries)) {
    throw new InvalidEntryRangeError(entryStart, entryStop, reader.numEntries, reader.path);
  }
  const r = ensureSyncReads(reader);
  const schema = nanoSchemaOf(r);
  const store = new ColumnStore(r, entryStart, entryStop);
  const bytesBefore = r.bytesRead;

  if (opts.prefetch) await store.load([...opts.prefetch].filter((n) => schema.branches.has(n)));
  const events = createEventsView(schema, store);
  let result: R;
  try {
    result = await fn(events);
  } finally {
    store.seal();
  }
  return {
    result,
    columnsRead: store.loadedNames(),
    columnsAccessed: store.accessedNames(),
    columnsReadOnAccess: store.lateNames(),
    bytesRead: r.bytesRead - bytesBefore,
  };
}
