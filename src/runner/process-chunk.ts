/**
 * Running one work item: open the file (through a small per-worker reader cache), run the processor
 * over the entry range with the columns it is known to need prefetched, and encode its accumulator.
 *
 * This is the whole job of a worker, wherever it runs: the in-process and thread executors call it
 * today and a remote FaaS endpoint calls the very same function. It knows nothing about executors.
 * Failures come out typed: `FileReadError` when the file cannot be opened or read (skippable),
 * `ChunkError` when the processor throws.
 */
import { encode } from '../accumulate/index.ts';
import type { WorkItem } from '../dataset/chunking.ts';
import { runOnEvents } from '../events/index.ts';
import { DelegatingReader } from '../io/delegating-reader.ts';
import type { Column, EventReader } from '../io/reader.ts';
import { warmSyncReads } from '../io/sync-read.ts';
import type { ProcessContext, Processor } from '../processor/types.ts';
import { CancelledError, ChunkError, FileReadError, thrownText } from './errors.ts';
import { ReaderCache, type Opener } from './reader-cache.ts';

/** What one chunk cost and produced, besides its accumulator. */
export interface ChunkMetrics {
  /** Entries processed (entryStop - entryStart). */
  readonly events: number;
  /** Compressed bytes fetched for this chunk. */
  readonly bytesRead: number;
  /** Branches read for this chunk. */
  readonly columnsRead: readonly string[];
  /**
   * Branches the processor used (a subset of `columnsRead`): what later chunks should read up front.
   * Absent from results of older endpoints; `columnsRead` stands in for it then.
   */
  readonly columnsAccessed?: readonly string[];
  /** Wall time of the chunk in the worker (open + read + process + encode), seconds. */
  readonly seconds: number;
}

/** The result of one work item: the encoded accumulator (a self-contained, transferable buffer) and metrics. */
export interface ChunkResult {
  readonly accumulator: Uint8Array;
  readonly metrics: ChunkMetrics;
}

/** State kept by one worker across chunks: open readers and, per processor, the columns it was seen to read. */
export interface ChunkState {
  readonly readers: ReaderCache;
  readonly columns: Map<string, Set<string>>;
  /** reader.bytesRead already attributed to earlier chunks (readers are shared across chunks). */
  readonly bytesSeen: WeakMap<EventReader, number>;
}

export function createChunkState(opts: { maxReaders?: number; open?: Opener } = {}): ChunkState {
  return { readers: new ReaderCache(opts.maxReaders ?? 4, opts.open), columns: new Map(), bytesSeen: new WeakMap() };
}

export interface ProcessChunkOptions {
  /** Dataset metadata for `ctx.metadata`. */
  metadata?: Readonly<Record<string, unknown>>;
  /** Columns known (e.g. from other workers) to be needed; read up front. */
  prefetch?: Iterable<string>;
  /** Key under which this worker remembers the processor's columns (the bundle hash); default: one shared set. */
  processorKey?: string;
  /**
   * Stops the chunk early (a FaaS copy that lost the race): checked before every column read, so
   * processing ends at its next read with a CancelledError.
   */
  signal?: AbortSignal;
  /**
   * The item this worker runs right after this one, when the caller knows it (`null`: none, as far as it
   * knows): a reader that reads ahead (root://) then reads that one's entries of this file, or nothing,
   * instead of guessing (EventReader.expectNext). Unset: the reader guesses.
   */
  next?: WorkItem | null;
}

/** Run `processor` on one work item. */
export async function processChunk(
  item: WorkItem,
  processor: Processor<unknown>,
  state: ChunkState,
  opts: ProcessChunkOptions = {},
): Promise<ChunkResult> {
  const t0 = performance.now();
  const { result, metrics } = await runChunk(item, processor, state, opts);
  let bytes: Uint8Array;
  try {
    bytes = transferable(encode(result));
  } catch (e) {
    throw new ChunkError(
      item,
      `the accumulator returned by process() cannot be encoded: ${messageOf(e)}`,
      e instanceof Error ? e.stack : undefined,
      { cause: e },
    );
  }
  return { accumulator: bytes, metrics: { ...metrics, seconds: (performance.now() - t0) / 1000 } };
}

/** What `process()` returned for one work item (not encoded), and the chunk's metrics. */
export interface ChunkOutput {
  readonly result: unknown;
  readonly metrics: ChunkMetrics;
}

/**
 * `processChunk` without the encoding of the result: for callers that merge results where they run
 * (process-batch.ts). Failures are typed as in `processChunk`.
 */
export async function runChunk(
  item: WorkItem,
  processor: Processor<unknown>,
  state: ChunkState,
  opts: ProcessChunkOptions = {},
): Promise<ChunkOutput> {
  const t0 = performance.now();
  let reader: EventReader;
  try {
    reader = await state.readers.get(item.file, item.tree, item.fileId);
  } catch (e) {
    throw new FileReadError(item, messageOf(e), { cause: e });
  }
  if (item.entryStop > reader.numEntries || item.entryStart < 0 || item.entryStart > item.entryStop) {
    throw new FileReadError(
      item,
      `entry range is outside the file's ${reader.numEntries} entries (the file changed since preprocessing?)`,
    );
  }

  if (opts.next !== undefined) {
    const n = opts.next;
    const same = n !== null && n.file === item.file && n.tree === item.tree && n.fileId === item.fileId;
    reader.expectNext?.(item.entryStart, item.entryStop, same ? n : null);
  }

  const key = opts.processorKey ?? '';
  let known = state.columns.get(key);
  if (!known) state.columns.set(key, (known = new Set()));
  const prefetch = new Set(known);
  if (opts.prefetch) for (const c of opts.prefetch) prefetch.add(c);
  // Nothing known about this processor: its columns will be read as it touches them, so let the helper
  // thread start and open the file while this thread opens the chunk.
  if (prefetch.size === 0) warmSyncReads(reader);

  const ctx: ProcessContext = {
    dataset: item.dataset,
    file: item.file,
    tree: item.tree,
    entryStart: item.entryStart,
    entryStop: item.entryStop,
    metadata: opts.metadata ?? {},
  };
  const guarded = new ReadGuard(reader, item, opts.signal);
  let run: Awaited<ReturnType<typeof runOnEvents<unknown>>>;
  try {
    run = await runOnEvents(guarded, item.entryStart, item.entryStop, (events) => processor.process(events, ctx), {
      prefetch,
    });
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    if (guarded.failure) {
      await state.readers.evict(item.file, item.tree, item.fileId);
      throw new FileReadError(item, messageOf(guarded.failure), { cause: guarded.failure });
    }
    throw new ChunkError(item, thrownText(e), e instanceof Error ? e.stack : undefined, { cause: e });
  }
  // A process() that forgets `return out` would otherwise merge as nothing and the run would end with
  // empty histograms and exit 0.
  if (run.result === undefined || run.result === null)
    throw new ChunkError(
      item,
      `process() returned ${run.result} instead of an accumulator — return the filled accumulator (e.g. \`return out;\` at the end of process())`,
    );
  // Prefetch what the processor used, not all that was read: a count column read only because the
  // first chunk asked for a collection's lengths before its fields is not needed once they are prefetched.
  for (const c of run.columnsAccessed) known.add(c);
  // Bytes since the previous chunk on this reader; the first chunk also pays for opening the file.
  const bytesRead = reader.bytesRead - (state.bytesSeen.get(reader) ?? 0);
  state.bytesSeen.set(reader, reader.bytesRead);

  return {
    result: run.result,
    metrics: {
      events: item.entryStop - item.entryStart,
      bytesRead,
      columnsRead: [...run.columnsRead],
      columnsAccessed: [...run.columnsAccessed],
      seconds: (performance.now() - t0) / 1000,
    },
  };
}

/**
 * Delegating reader that remembers whether a read (async up front, or synchronous on a column's first
 * access) failed for reasons of the file (I/O, corruption) rather than of the request (unknown branch
 * names, which are the processor's mistake and keep their own message).
 */
class ReadGuard extends DelegatingReader {
  failure: unknown;
  private names: Set<string> | undefined;
  readonly readSync?: (names: readonly string[], entryStart: number, entryStop: number) => Record<string, Column>;
  constructor(
    inner: EventReader,
    private readonly item: WorkItem,
    private readonly signal: AbortSignal | undefined,
  ) {
    super(inner);
    const readSync = inner.readSync;
    if (readSync) {
      this.readSync = (names, entryStart, entryStop) => {
        if (this.signal?.aborted) throw new CancelledError(this.item);
        try {
          return readSync.call(inner, names, entryStart, entryStop);
        } catch (e) {
          this.noteFailure(names, e);
          throw e;
        }
      };
    }
  }
  override async read(
    names: readonly string[],
    entryStart: number,
    entryStop: number,
  ): Promise<Record<string, Column>> {
    if (this.signal?.aborted) throw new CancelledError(this.item);
    try {
      return await this.inner.read(names, entryStart, entryStop);
    } catch (e) {
      this.noteFailure(names, e);
      throw e;
    }
  }
  private noteFailure(names: readonly string[], e: unknown): void {
    const known = (this.names ??= new Set(this.inner.branches().map((b) => b.name)));
    if (names.every((n) => known.has(n))) this.failure = e;
  }
}

/** A Uint8Array that owns its whole ArrayBuffer, so it can be transferred without copying anything else. */
export function transferable(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer ? b : b.slice();
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
