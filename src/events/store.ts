/**
 * The columns of one entry range. Columns known in advance are loaded together with `load` (async, one
 * reader call); a column touched without having been loaded is read on the spot with the reader's
 * `readSync`, so the processor never has to be re-run. Accesses are logged so the runner can tell what
 * a processor really used.
 */
import { brokenInvariant } from '../errors/index.ts';
import type { Column, EventReader } from '../io/reader.ts';
import { ColumnNotLoadedError, ColumnShapeMismatchError, SyncReadUnavailableError } from './errors.ts';

export class ColumnStore {
  private readonly columns = new Map<string, Column>();
  private readonly accessed = new Set<string>();
  /** Columns used only to learn a collection's list lengths, with the collection's field branches. */
  private readonly structural = new Map<string, readonly string[]>();
  private readonly loadedLate = new Set<string>();
  private sealed = false;

  constructor(
    readonly reader: EventReader,
    readonly entryStart: number,
    readonly entryStop: number,
  ) {}

  /** The column, logged as accessed; read synchronously when it is not loaded yet. */
  get(name: string): Column {
    this.accessed.add(name);
    return this.read(name);
  }

  /**
   * A count column (`nJet`) used only for a collection's list lengths, before any of the collection's
   * fields (`covers`) was loaded. It counts as accessed only if none of those fields is accessed in this
   * chunk: once one is (and so is prefetched for the next chunks), the lengths come from it and the count
   * column is not needed. Without this, the first chunk's access order made every later chunk read it.
   */
  getStructural(name: string, covers: readonly string[]): Column {
    this.touchStructural(name, covers);
    return this.read(name);
  }

  /** Log a structural use (see `getStructural`) of an already loaded column. */
  touchStructural(name: string, covers: readonly string[]): void {
    if (!this.structural.has(name)) this.structural.set(name, covers);
  }

  private read(name: string): Column {
    const c = this.columns.get(name);
    if (c !== undefined) return c;
    if (this.sealed) throw new ColumnNotLoadedError(name);
    if (!this.reader.readSync) throw new SyncReadUnavailableError(name, this.reader.path, this.reader.treeName);
    this.loadedLate.add(name);
    this.accept([name], this.reader.readSync([name], this.entryStart, this.entryStop));
    return this.columns.get(name) ?? brokenInvariant(`the reader did not return column ${name}`, { name });
  }

  /** Whether the column is loaded, without logging an access. */
  has(name: string): boolean {
    return this.columns.has(name);
  }

  /** Log an access to a column used indirectly (a collection's offsets taken from one of its branches). */
  touch(name: string): void {
    this.accessed.add(name);
  }

  /** After the processor returned: columns not loaded by now are no longer read (events kept beyond the call). */
  seal(): void {
    this.sealed = true;
  }

  /** Names accessed so far, sorted (count columns used for lengths only where no field of theirs was). */
  accessedNames(): string[] {
    const out = new Set(this.accessed);
    for (const [name, covers] of this.structural) if (!covers.some((f) => this.accessed.has(f))) out.add(name);
    return [...out].sort();
  }

  /** Names that were not loaded up front but read synchronously on first access, sorted. */
  lateNames(): string[] {
    return [...this.loadedLate].sort();
  }

  /** Names loaded so far, sorted. */
  loadedNames(): string[] {
    return [...this.columns.keys()].sort();
  }

  /** Read the given (not yet loaded) branches in one async reader call. */
  async load(names: Iterable<string>): Promise<void> {
    const todo = [...new Set(names)].filter((n) => !this.columns.has(n));
    if (todo.length === 0) return;
    this.accept(todo, await this.reader.read(todo, this.entryStart, this.entryStop));
  }

  private accept(names: readonly string[], got: Record<string, Column>): void {
    const n = this.entryStop - this.entryStart;
    for (const name of names) {
      const c = got[name];
      if (c === undefined) {
        throw new ColumnShapeMismatchError(
          name,
          this.reader.path,
          this.reader.treeName,
          'the reader returned no column for it',
        );
      }
      const len = ArrayBuffer.isView(c) ? c.length : c.offsets.length - 1;
      if (len !== n) {
        throw new ColumnShapeMismatchError(
          name,
          this.reader.path,
          this.reader.treeName,
          `${len} entries for a range of ${n}`,
        );
      }
      this.columns.set(name, c);
    }
  }
}
