/**
 * The base of readers that wrap another one (a guard, a read-ahead, a helper for synchronous reads):
 * everything is passed to `inner`, and a wrapper overrides only what it changes. `readSync` is left out
 * on purpose: a wrapper has it only when it can serve it (`if (reader.readSync)` is how callers ask).
 */
import type { BranchInfo, Column, EntryRange, EventReader } from './reader.ts';

/**
 * An EventReader that passes every call to `inner`, except `readSync` (see above).
 *
 * @example
 * ```ts
 * class Counting extends DelegatingReader {
 *   reads = 0;
 *   override read(names: readonly string[], start: number, stop: number) {
 *     this.reads++;
 *     return super.read(names, start, stop);
 *   }
 * }
 * ```
 */
export class DelegatingReader implements EventReader {
  constructor(readonly inner: EventReader) {}

  get path(): string {
    return this.inner.path;
  }
  get treeName(): string {
    return this.inner.treeName;
  }
  get numEntries(): number {
    return this.inner.numEntries;
  }
  get bytesRead(): number {
    return this.inner.bytesRead;
  }
  branches(): readonly BranchInfo[] {
    return this.inner.branches();
  }
  boundaries(): readonly number[] {
    return this.inner.boundaries();
  }
  unreadable(name: string): Error | undefined {
    return this.inner.unreadable?.(name);
  }
  unreadableNames(): readonly string[] {
    return this.inner.unreadableNames?.() ?? [];
  }
  read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    return this.inner.read(names, entryStart, entryStop);
  }
  expectNext(entryStart: number, entryStop: number, next: EntryRange | null): void {
    this.inner.expectNext?.(entryStart, entryStop, next);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
