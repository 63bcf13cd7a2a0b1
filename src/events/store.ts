/**
 * The columns of one entry range, loaded on demand. Synchronous `get` either returns a loaded column or
 * records the name as missing and throws the `ColumnNotLoaded` signal; `runOnEvents` then calls `load`.
 * Access and misses are logged per pass so the runner can tell what a processor really used.
 */
import type { Column, EventReader } from '../io/reader.ts';
import { ColumnNotLoaded, ColumnShapeMismatch } from './errors.ts';

export class ColumnStore {
  private readonly columns = new Map<string, Column>();
  private accessed = new Set<string>();
  private missing = new Set<string>();

  constructor(
    readonly reader: EventReader,
    readonly entryStart: number,
    readonly entryStop: number,
  ) {}

  /** The loaded column, logged as accessed; throws `ColumnNotLoaded` (and logs the miss) otherwise. */
  get(name: string): Column {
    this.accessed.add(name);
    const c = this.columns.get(name);
    if (c === undefined) {
      this.missing.add(name);
      throw new ColumnNotLoaded(name);
    }
    return c;
  }

  /** Whether the column is loaded, without logging an access. */
  has(name: string): boolean {
    return this.columns.has(name);
  }

  /** Log an access to a column used indirectly (a collection's offsets taken from one of its branches). */
  touch(name: string): void {
    this.accessed.add(name);
  }

  /** Start a processor pass: clear the per-pass access and miss logs. */
  beginPass(): void {
    this.accessed = new Set();
    this.missing = new Set();
  }

  /** Names touched while unloaded during this pass, sorted. */
  missingThisPass(): string[] {
    return [...this.missing].sort();
  }

  /** Names accessed during this pass, sorted. */
  accessedThisPass(): string[] {
    return [...this.accessed].sort();
  }

  /** Names loaded so far, sorted. */
  loadedNames(): string[] {
    return [...this.columns.keys()].sort();
  }

  /** Read the given (not yet loaded) branches in one reader call. */
  async load(names: Iterable<string>): Promise<void> {
    const todo = [...new Set(names)].filter((n) => !this.columns.has(n));
    if (todo.length === 0) return;
    const got = await this.reader.read(todo, this.entryStart, this.entryStop);
    const n = this.entryStop - this.entryStart;
    for (const name of todo) {
      const c = got[name];
      if (c === undefined) {
        throw new ColumnShapeMismatch(name, this.reader.path, this.reader.treeName, 'the reader returned no column for it');
      }
      const len = ArrayBuffer.isView(c) ? c.length : c.offsets.length - 1;
      if (len !== n) {
        throw new ColumnShapeMismatch(name, this.reader.path, this.reader.treeName, `${len} entries for a range of ${n}`);
      }
      this.columns.set(name, c);
    }
  }
}
