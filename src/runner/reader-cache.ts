/**
 * A small per-worker cache of open readers: consecutive chunks of one file reuse the parsed file
 * structure instead of reopening it. Least recently used readers are closed when the cache is full.
 * Readers come out able to read synchronously (`ensureSyncReads`): the ones the opener returns without
 * `readSync` are served by this thread's helper, which opens the same (file, tree) with `openReader`.
 * ROOT files over root:// come out reading one chunk ahead (read-ahead.ts).
 */
import { extensionOf, openReader } from '../io/open.ts';
import { openedState } from '../io/opened.ts';
import type { EventReader, OpenOptions } from '../io/reader.ts';
import { closeSyncReads, ensureSyncReads } from '../io/sync-read.ts';
import { isXrootdUrl } from '../io/xrootd/index.ts';
import { withReadAhead } from './read-ahead.ts';

/**
 * ROOT files (TTree, RNTuple) over root:// read each chunk one chunk ahead (read-ahead.ts): every read
 * waits a round trip otherwise. Parquet readers prefetch the next row group's bytes themselves.
 */
function readsAhead(file: string): boolean {
  return isXrootdUrl(file) && extensionOf(file) === '.root';
}

export type Opener = (pathOrUrl: string, opts: OpenOptions) => Promise<EventReader>;

export class ReaderCache {
  private readonly readers = new Map<string, Promise<EventReader>>();

  constructor(
    /** Readers kept open at once. */
    readonly capacity = 4,
    private readonly open: Opener = openReader,
  ) {}

  /** An open reader for (file, tree), opened on first use. `version` (the file id) invalidates stale entries. */
  async get(file: string, tree: string, version = ''): Promise<EventReader> {
    const key = `${file}\u0000${tree}\u0000${version}`;
    let r = this.readers.get(key);
    if (r) {
      this.readers.delete(key); // re-insert: Map order is the LRU order
      this.readers.set(key, r);
      return r;
    }
    // The main thread's parse of this file version, when it planned from it (src/io/opened.ts).
    const opened = openedState(version, tree);
    r = this.open(file, opened ? { treeName: tree, opened } : { treeName: tree }).then((x) =>
      ensureSyncReads(x.readSync && readsAhead(file) ? withReadAhead(x) : x, version),
    );
    this.readers.set(key, r);
    r.catch(() => this.readers.delete(key));
    while (this.readers.size > this.capacity) {
      const [oldKey, old] = this.readers.entries().next().value as [string, Promise<EventReader>];
      this.readers.delete(oldKey);
      old.then((x) => x.close()).catch(() => undefined);
    }
    return r;
  }

  /** Forget (and close) the reader for (file, tree), e.g. after a read error left it in doubt. */
  async evict(file: string, tree: string, version = ''): Promise<void> {
    const key = `${file}\u0000${tree}\u0000${version}`;
    const r = this.readers.get(key);
    this.readers.delete(key);
    await r?.then((x) => x.close()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.readers.values()];
    this.readers.clear();
    await Promise.all(all.map((r) => r.then((x) => x.close()).catch(() => undefined)));
    // The owner is done: the helper thread (if one started) goes too; it would restart on a later miss.
    await closeSyncReads();
  }
}
