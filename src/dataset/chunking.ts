/**
 * Splitting files into work items. A work item is the unit an executor runs: one entry range of one
 * file's tree. Items come out in a fixed order (dataset, file, entry) so that results merge in the same
 * order on every run, which makes resumed and uninterrupted runs bit-identical.
 */
import { RistrettoError } from '../errors/index.ts';

/** One chunk of work: entries [entryStart, entryStop) of `tree` in `file`. Plain data (structured-clone and JSON safe). */
export interface WorkItem {
  readonly dataset: string;
  /** Absolute path or URL. */
  readonly file: string;
  readonly tree: string;
  readonly entryStart: number;
  readonly entryStop: number;
  /** Identity of the file version the ranges were computed for (path + size + mtime, or URL + ETag). */
  readonly fileId: string;
}

/** What preprocessing learned about a file: entry count and basket/row-group boundaries. */
export interface FileInfo {
  readonly path: string;
  readonly tree: string;
  readonly fileId: string;
  readonly numEntries: number;
  /** Starts of baskets/clusters/row groups plus numEntries at the end (as `EventReader.boundaries()`). */
  readonly boundaries: readonly number[];
}

export interface ChunkOptions {
  /** Target entries per chunk (default 100000). */
  chunksize?: number;
  /** Cut only at basket/row-group boundaries (chunks may then exceed or fall short of chunksize). */
  align?: boolean;
}

/** Stable text key of an item, used by checkpoints. */
export function itemKey(item: WorkItem): string {
  return `${item.dataset}\u0000${item.fileId}\u0000${item.tree}\u0000${item.entryStart}\u0000${item.entryStop}`;
}

/**
 * Entry ranges for one file. Without alignment the file is cut into ceil(n/chunksize) nearly equal
 * chunks (no tiny tail chunk). With alignment, consecutive clusters are grouped greedily while the
 * group stays within chunksize; a cluster larger than chunksize becomes a chunk of its own.
 */
export function chunkRanges(
  info: Pick<FileInfo, 'numEntries' | 'boundaries'>,
  opts: ChunkOptions = {},
): Array<[number, number]> {
  const chunksize = opts.chunksize ?? 100_000;
  if (!Number.isInteger(chunksize) || chunksize < 1)
    throw new RistrettoError(
      `chunksize must be a positive integer, got ${chunksize}`,
      { chunksize },
      'pass --chunksize N (entries per chunk), e.g. 100000',
    );
  const n = info.numEntries;
  if (n <= 0) return [];
  const out: Array<[number, number]> = [];
  if (!opts.align) {
    const count = Math.ceil(n / chunksize);
    const size = Math.ceil(n / count);
    for (let start = 0; start < n; start += size) out.push([start, Math.min(n, start + size)]);
    return out;
  }
  const cuts = normalizeBoundaries(info.boundaries, n);
  let start = 0;
  for (let k = 1; k < cuts.length; k++) {
    const stop = cuts[k];
    const next = cuts[k + 1];
    // Close the chunk here if the next cluster would push it past chunksize (or this is the end).
    if (next === undefined || next - start > chunksize) {
      out.push([start, stop]);
      start = stop;
    }
  }
  return out;
}

/** Work items of one file, in entry order. */
export function chunkFile(dataset: string, info: FileInfo, opts: ChunkOptions = {}): WorkItem[] {
  return chunkRanges(info, opts).map(([entryStart, entryStop]) => ({
    dataset,
    file: info.path,
    tree: info.tree,
    entryStart,
    entryStop,
    fileId: info.fileId,
  }));
}

function normalizeBoundaries(b: readonly number[], n: number): number[] {
  const s = new Set<number>([0, n]);
  for (const x of b) if (Number.isInteger(x) && x > 0 && x < n) s.add(x);
  return [...s].sort((a, c) => a - c);
}
