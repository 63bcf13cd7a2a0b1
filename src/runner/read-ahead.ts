/**
 * Reading one chunk ahead, for readers that wait a round trip per read (ROOT files over root://): after a
 * read, the same columns of the chunk the caller reads next are read in the background, so that the
 * request is on the wire while the processor runs over this chunk; the next read of exactly those
 * columns and entries takes the result. Without it every chunk waited one round trip to the server
 * before its processing started. Which chunk comes next is the caller's word where it knows its plan
 * (`expectNext`: the next chunk of its merge group, or none), else a guess: once a read follows the
 * previous one, the next range of the same length.
 *
 * Bounded: one read ahead at most, dropped when the next read asks for something else or the reader
 * closes. A background read that fails fails the read that takes it over, with the reader's own typed
 * error (after the byte source's retries); one that is dropped fails nobody. Parquet readers read ahead
 * by themselves (the next row group's bytes, parquet/index.ts) and are not wrapped.
 */
import { DelegatingReader } from '../io/delegating-reader.ts';
import type { Column, EntryRange, EventReader } from '../io/reader.ts';

/** Reads answered by a read started ahead, in this thread (for benchmarks and tests). */
export const readAheadCounters = { hits: 0 };

/**
 * `reader`, reading one chunk ahead as described above. `readSync` (a processor's first touch of a
 * column) and everything else pass through unchanged.
 *
 * @example
 * ```ts
 * const reader = withReadAhead(await openReader('root://eos.example.org//store/nano.root'));
 * await reader.read(['MET_pt'], 0, 100_000);
 * await reader.read(['MET_pt'], 100_000, 200_000); // follows: [200k, 300k) is now read in the background
 * ```
 */
export function withReadAhead(reader: EventReader): EventReader {
  return new ReadAheadReader(reader);
}

interface Ahead {
  readonly key: string;
  readonly columns: Promise<Record<string, Column>>;
}

class ReadAheadReader extends DelegatingReader {
  readonly readSync?: (names: readonly string[], entryStart: number, entryStop: number) => Record<string, Column>;
  private ahead: Ahead | undefined;
  private lastStop = -1;
  /** What the caller reads after [entryStart, entryStop) (`expectNext`), until that read. */
  private planned:
    | { readonly entryStart: number; readonly entryStop: number; readonly next: EntryRange | null }
    | undefined;

  constructor(inner: EventReader) {
    super(inner);
    const readSync = inner.readSync;
    if (readSync) {
      this.readSync = (names, entryStart, entryStop) => {
        // the first chunk of a run reads its columns here, as the processor touches them
        this.lastStop = entryStop;
        return readSync.call(inner, names, entryStart, entryStop);
      };
    }
  }

  override async read(
    names: readonly string[],
    entryStart: number,
    entryStop: number,
  ): Promise<Record<string, Column>> {
    const key = keyOf(names, entryStart, entryStop);
    const ahead = this.ahead;
    this.ahead = undefined;
    let columns: Promise<Record<string, Column>>;
    if (ahead?.key === key) {
      readAheadCounters.hits++;
      columns = ahead.columns;
    } else columns = this.inner.read(names, entryStart, entryStop);
    const next = this.nextRead(entryStart, entryStop);
    this.lastStop = entryStop;
    const out = await columns;
    if (next) {
      const later = this.inner.read(names, next.entryStart, next.entryStop);
      later.catch(() => {}); // the read that takes it over gets the error
      this.ahead = { key: keyOf(names, next.entryStart, next.entryStop), columns: later };
      // One turn of the event loop before the processor takes the thread: byte sources gather the reads
      // of a turn into one request (XrootdSource) and send it then.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }

  override expectNext(entryStart: number, entryStop: number, next: EntryRange | null): void {
    this.planned = { entryStart, entryStop, next };
  }

  /** What to read ahead after [entryStart, entryStop): the caller's plan for this read, else the guess. */
  private nextRead(entryStart: number, entryStop: number): EntryRange | undefined {
    const p = this.planned;
    if (p && p.entryStart === entryStart && p.entryStop === entryStop) {
      this.planned = undefined;
      const n = p.next;
      return n && n.entryStart < n.entryStop && n.entryStop <= this.numEntries ? n : undefined;
    }
    const stop = Math.min(this.numEntries, entryStop + (entryStop - entryStart));
    return entryStart === this.lastStop && entryStop < stop ? { entryStart: entryStop, entryStop: stop } : undefined;
  }

  override async close(): Promise<void> {
    this.ahead = undefined;
    await this.inner.close();
  }
}

function keyOf(names: readonly string[], entryStart: number, entryStop: number): string {
  return `${entryStart}\u0000${entryStop}\u0000${names.join('\u0000')}`;
}
