/**
 * Reading one chunk ahead, for readers that wait a round trip per read (ROOT files over root://): once a
 * read follows the previous one (a run going through a file chunk by chunk), the same columns of the
 * next chunk of the same length are read in the background, so that the request is on the wire while
 * the processor runs over this chunk; the next read of exactly those columns and entries takes the
 * result. Without it every chunk waited one round trip to the server before its processing started.
 *
 * Bounded: one read ahead at most, dropped when the next read asks for something else or the reader
 * closes. A background read that fails fails the read that takes it over, with the reader's own typed
 * error (after the byte source's retries); one that is dropped fails nobody. Parquet readers read ahead
 * by themselves (the next row group's bytes, parquet/index.ts) and are not wrapped.
 */
import { DelegatingReader } from '../io/delegating-reader.ts';
import type { Column, EventReader } from '../io/reader.ts';

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
    const follows = entryStart === this.lastStop;
    this.lastStop = entryStop;
    const out = await columns;
    const next = Math.min(this.numEntries, entryStop + (entryStop - entryStart));
    if (follows && entryStop < next) {
      const later = this.inner.read(names, entryStop, next);
      later.catch(() => {}); // the read that takes it over gets the error
      this.ahead = { key: keyOf(names, entryStop, next), columns: later };
      // One turn of the event loop before the processor takes the thread: byte sources gather the reads
      // of a turn into one request (XrootdSource) and send it then.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out;
  }

  override async close(): Promise<void> {
    this.ahead = undefined;
    await this.inner.close();
  }
}

function keyOf(names: readonly string[], entryStart: number, entryStop: number): string {
  return `${entryStart}\u0000${entryStop}\u0000${names.join('\u0000')}`;
}
