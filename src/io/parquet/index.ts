/**
 * Parquet reader: `openParquet(pathOrUrl)` gives an EventReader over a local file or an http(s) URL.
 *
 * Both NanoAOD Parquet layouts map to the same flat branch names (see schema.ts). Pages are decoded
 * straight into offsets + typed values (chunk.ts) with hyparquet's internals for the footer, page
 * headers and decompression; only requested columns of the row groups overlapping the entry range are
 * fetched.
 */
import type { NumericArray } from '../../columnar/types.ts';
import { brokenInvariant, isEntryRange, RistrettoError } from '../../errors/index.ts';
import type { BranchInfo, Column, EntryRange, EventReader, OpenOptions } from '../reader.ts';
import { isUrl, openSource, type ByteSource, type HttpOptions } from '../source.ts';
import { concatChunks, countsOf, sameOffsets, toColumn, trimChunk } from './assemble.ts';
import { decodeChunk, type DecodedChunk } from './chunk.ts';
import { arrayTypeOf } from './dtype.ts';
import {
  ParquetColumnNotFoundError,
  ParquetFormatError,
  ParquetRangeError,
  ParquetUnsupportedError,
} from './errors.ts';
import { readRanges, SyncFile } from './fetch.ts';
import { loadFooterCodecs, ParquetFooter, readFooter, type ShippedFooter } from './footer.ts';
import type { OpenedState } from '../opened.ts';
import { mapSchema, type BranchTable, type LeafColumn, type MappedBranch } from './schema.ts';
import { closestNames } from '../../errors/suggest.ts';

export {
  ParquetChecksumError,
  ParquetColumnNotFoundError,
  ParquetError,
  ParquetFormatError,
  ParquetRangeError,
  ParquetUnsupportedError,
} from './errors.ts';

/** Options of `openParquet`: the common reader options plus HTTP settings for remote files. */
export interface ParquetOpenOptions extends OpenOptions, HttpOptions {}

/** Name reported as `treeName` by Parquet readers (Parquet files have no trees). */
export const PARQUET_TREE_NAME = 'Events';

/**
 * Open a Parquet file (local path or http(s) URL supporting range requests).
 * Reads only the footer; columns are fetched by `read`.
 * @throws SourceError when the file cannot be opened, ParquetFormatError when it is not valid Parquet.
 */
export async function openParquet(pathOrUrl: string, opts: ParquetOpenOptions = {}): Promise<EventReader> {
  const source = await openSource(pathOrUrl, opts);
  try {
    // Schema and row counts only: a column chunk's metadata is decoded when a read first needs it
    // (footer.ts), so a pool worker no longer decodes the whole footer of a file it reads a part of.
    const footer = await openFooter(source, opts.opened);
    let table: BranchTable;
    try {
      table = mapSchema(footer);
    } catch (e) {
      if (e instanceof RistrettoError) throw e;
      throw new ParquetFormatError(
        `the schema of ${pathOrUrl} is corrupt: ${(e as Error).message}`,
        { file: pathOrUrl },
        'copy the file again',
        { cause: e },
      );
    }
    return new ParquetReader(pathOrUrl, source, footer, table, opts.treeName ?? PARQUET_TREE_NAME);
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The footer another thread already decoded (`opened`, when it is this file's: same size), or the file's. */
async function openFooter(source: ByteSource, opened: OpenedState | undefined): Promise<ParquetFooter> {
  if (opened?.format !== OPENED_FORMAT || opened.size !== source.size) return readFooter(source);
  return ParquetFooter.fromShipped(source.name, opened.data as ShippedFooter);
}

/** `OpenedState.format` of Parquet footers. */
const OPENED_FORMAT = 'parquet-footer';

class ParquetReader implements EventReader {
  readonly numEntries: number;
  private readonly starts: number[];
  private readonly infos: BranchInfo[];
  /**
   * Per collection (count branch name) and row group: a digest of its list lengths and the column it was
   * taken from (the first of the collection decoded there), so that a column read later (touched on first
   * access) is checked against the same lengths.
   */
  private readonly lengths = new Map<string, { readonly digest: number; readonly from: string }>();
  /** Count columns the file stores (flat layout `nJet`), by name; the nested layout's are synthesized. */
  private readonly storedCounts = new Map<string, LeafColumn>();
  /** Per stored count column: the array its reference-only reads decode into, row group after row group. */
  private readonly referenceBuffers = new Map<number, NumericArray>();

  constructor(
    readonly path: string,
    private readonly source: ByteSource,
    private readonly footer: ParquetFooter,
    private readonly table: BranchTable,
    readonly treeName: string,
  ) {
    this.starts = [0];
    for (const n of footer.rowGroupRows) this.starts.push(this.starts[this.starts.length - 1] + n);
    this.numEntries = this.starts[this.starts.length - 1];
    this.infos = [...table.branches.values()].map((b) => b.info);
    for (const b of table.branches.values()) {
      const count = b.info.countBranch === undefined ? undefined : table.branches.get(b.info.countBranch);
      if (count?.kind === 'leaf') this.storedCounts.set(count.info.name, count);
    }
    if (!isUrl(path)) {
      this.local = true;
      this.readSync = (names, entryStart, entryStop) => this.readLocal(names, entryStart, entryStop);
    } else if (source.readvSync) {
      this.readSync = (names, entryStart, entryStop) => this.readRemoteSync(names, entryStart, entryStop);
    }
  }

  /** The decompressors of the first row group, loading or loaded (`read`). */
  private codecs?: Promise<void>;

  /** A local file: `read` reads synchronously too (see there). */
  private readonly local: boolean = false;

  get bytesRead(): number {
    return this.source.bytesRead + (this.syncFile?.bytesRead ?? 0);
  }

  branches(): readonly BranchInfo[] {
    return this.infos;
  }

  unreadableNames(): readonly string[] {
    return [...this.table.skipped.keys()];
  }

  boundaries(): readonly number[] {
    return this.starts;
  }

  openedState(): OpenedState {
    const data = this.footer.shipped();
    return { format: OPENED_FORMAT, size: this.source.size, bytes: data.bytes.byteLength, data };
  }

  async read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    // Decompressors load at the first read, not at open (loadFooterCodecs); `readSync` before any `read`
    // loads what it needs synchronously (chunk.ts).
    await (this.codecs ??= loadFooterCodecs(this.footer));
    // A local file is read synchronously here too: a chunk is usually one row group, so the async path
    // had nothing to overlap and left the thread idle while libuv's pool read the bytes (Q1 on 20 M
    // events: a quarter of its time idle), and allocated a fresh buffer per read.
    if (this.local && this.readSync) return this.readSync(names, entryStart, entryStop);
    const ahead = this.nextRead(entryStart, entryStop);
    const job = this.plan(names, entryStart, entryStop);
    const { groups, wanted } = job;
    // Fetch the next row group's bytes while decoding the current one (overlaps I/O with CPU).
    const fetch = async (i: number): Promise<Fetched> => {
      const ranges = this.rangesOf(groups[i], wanted[i]);
      if (!this.source.readRanges) return { ranges, bytes: await readRanges(this.source, ranges) };
      const got = await this.source.readRanges(ranges.map(([start, end]) => ({ start, end })));
      return { ranges, bytes: got.bytes, release: got.release };
    };
    let next = groups.length ? fetch(0) : undefined;
    for (let i = 0; next; i++) {
      const fetched = await next;
      next = i + 1 < groups.length ? fetch(i + 1) : undefined;
      next?.catch(() => {}); // a failure surfaces when awaited; avoid an unhandled rejection if we throw first
      if (!next && ahead !== undefined) this.readAhead(job, ahead);
      this.consume(job, i, fetched);
      // consume() decoded the bytes into new arrays: the source may receive the next group into them
      fetched.release?.();
    }
    return this.finish(job);
  }

  /**
   * A run reads a file chunk after chunk: once a read follows the previous one, the first row group of the
   * next chunk (the one holding `from`) is asked of the source now, with the same columns, so that its
   * round trip overlaps decoding and processing this chunk (root://; other sources cannot prefetch).
   * One row group ahead at most; a read that asks for something else simply does not use it.
   */
  private readAhead(job: ReadJob, from: number): void {
    if (!this.source.prefetchRanges || from >= this.numEntries) return;
    const last = job.groups[job.groups.length - 1];
    let g = from >= this.starts[last] ? last : 0;
    while (this.starts[g + 1] <= from) g++;
    try {
      const ranges = this.rangesOf(g, this.withReferences(g, [...job.leaves.values()]));
      this.source.prefetchRanges(ranges.map(([start, end]) => ({ start, end })));
    } catch {
      // a damaged column chunk: the read that reaches it reports it
    }
  }

  /**
   * Local files read synchronously on their own (a second, synchronous file descriptor, opened on the
   * first call): a column a processor touches without prefetch is then read on the spot, on this thread,
   * instead of through the sync-read helper thread, whose start-up (loading the readers in a new thread)
   * cost 0.5–2.5 s on the first chunk of every run and every pool worker. root:// files read synchronously
   * through their byte source (`readvSync`: one vector read per row group); http(s) files have no `readSync`.
   */
  readonly readSync?: (names: readonly string[], entryStart: number, entryStop: number) => Record<string, Column>;

  private syncFile: SyncFile | undefined;

  /** Where the last read ended: a read starting there is the next chunk of a run (see `readAhead`). */
  private lastStop = -1;
  /** What the caller reads after [entryStart, entryStop) (`expectNext`), until that read. */
  private planned:
    | { readonly entryStart: number; readonly entryStop: number; readonly next: EntryRange | null }
    | undefined;

  /** See EventReader.expectNext: the row group `readAhead` asks for next comes from the caller's plan. */
  expectNext(entryStart: number, entryStop: number, next: EntryRange | null): void {
    this.planned = { entryStart, entryStop, next };
  }

  /**
   * Where the read after [entryStart, entryStop) starts, if it is to be read ahead: the caller's plan for
   * this read when it gave one, else the end of this read once reads follow each other.
   */
  private nextRead(entryStart: number, entryStop: number): number | undefined {
    const p = this.planned;
    if (p && p.entryStart === entryStart && p.entryStop === entryStop) {
      this.planned = undefined;
      return p.next && p.next.entryStop > p.next.entryStart ? p.next.entryStart : undefined;
    }
    return entryStart === this.lastStop && entryStart > 0 ? entryStop : undefined;
  }

  private readLocal(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    const job = this.plan(names, entryStart, entryStop);
    this.syncFile ??= SyncFile.open(this.path);
    for (let i = 0; i < job.groups.length; i++) {
      const ranges = this.rangesOf(job.groups[i], job.wanted[i]);
      // Transient bytes: consume() decodes every chunk into new arrays before the next read overwrites them.
      this.consume(job, i, { ranges, bytes: this.syncFile.readRanges(ranges, true) });
    }
    return this.finish(job);
  }

  /** `readSync` of a root:// file: each row group's column chunks in one kXR_readv of the source. */
  private readRemoteSync(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    const job = this.plan(names, entryStart, entryStop);
    for (let i = 0; i < job.groups.length; i++) {
      const ranges = this.rangesOf(job.groups[i], job.wanted[i]);
      const bytes =
        this.source.readvSync?.(ranges.map(([start, end]) => ({ start, end }))) ??
        brokenInvariant(`readRemoteSync over a source without readvSync: ${this.path}`);
      this.consume(job, i, { ranges, bytes });
    }
    return this.finish(job);
  }

  /** Which leaves of which row groups a read needs (the per-row-group lists include stored count columns). */
  private plan(names: readonly string[], entryStart: number, entryStop: number): ReadJob {
    this.checkRange(entryStart, entryStop);
    const mapped = names.map((n) => this.resolve(n));
    this.lastStop = entryStop;

    // Leaves to decode; counts reuse a requested sibling's offsets, else decode one leaf's levels only.
    const leaves = new Map<number, { leaf: LeafColumn; levelsOnly: boolean }>();
    for (const b of mapped) if (b.kind === 'leaf') leaves.set(b.columnIndex, { leaf: b, levelsOnly: false });
    const countSource = new Map<string, number>();
    for (const b of mapped) {
      if (b.kind !== 'count') continue;
      const sibling = b.leaves.find((l) => leaves.has(l.columnIndex)) ?? b.leaves[0];
      if (!leaves.has(sibling.columnIndex)) leaves.set(sibling.columnIndex, { leaf: sibling, levelsOnly: true });
      countSource.set(b.info.name, sibling.columnIndex);
    }

    const pieces = new Map<number, DecodedChunk[]>();
    for (const k of leaves.keys()) pieces.set(k, []);
    const requested = [...leaves.values()];
    const groups: number[] = [];
    for (let g = 0; g < this.footer.numRowGroups; g++) {
      const gStart = this.starts[g];
      const gStop = this.starts[g + 1];
      if (gStop > entryStart && gStart < entryStop && gStop > gStart) groups.push(g);
    }
    // Each row group's leaves, plus the stored count columns of collections not yet checked in that group.
    const wanted = groups.map((g) => this.withReferences(g, requested));
    return { mapped, leaves, countSource, pieces, groups, wanted, entryStart, entryStop };
  }

  /** Decode the `i`-th row group of a read from its fetched bytes and keep the requested rows. */
  private consume(job: ReadJob, i: number, fetched: Fetched): void {
    const g = job.groups[i];
    const decoded = this.decodeGroup(g, job.wanted[i], fetched);
    this.checkCollections(g, job.wanted[i], decoded);
    for (const k of decoded.keys()) if (!job.leaves.has(k)) decoded.delete(k);
    const gStart = this.starts[g];
    const a = Math.max(job.entryStart, gStart) - gStart;
    const b = Math.min(job.entryStop, this.starts[g + 1]) - gStart;
    for (const [k, chunk] of decoded) piecesOf(job, k).push(trimChunk(chunk, a, b));
  }

  /** The columns of a read from its decoded pieces. */
  private finish(job: ReadJob): Record<string, Column> {
    const { mapped, leaves, countSource } = job;
    const columns = new Map<number, DecodedChunk>();
    for (const [k, { leaf }] of leaves) {
      const p = piecesOf(job, k);
      const Out = arrayTypeOf(leaf.info.dtype);
      columns.set(k, p.length ? concatChunks(p, Out) : emptyChunk(leaf, Out));
    }

    const out: Record<string, Column> = {};
    // Jagged columns of one collection share one offsets array when their offsets agree.
    const sharedOffsets = new Map<string, Int32Array>();
    for (const b of mapped) {
      if (b.kind === 'count') {
        const counted = columns.get(countSource.get(b.info.name) ?? -1)?.offsets;
        out[b.info.name] = countsOf(counted ?? brokenInvariant(`count column ${b.info.name} read without its list`));
        continue;
      }
      const c = columns.get(b.columnIndex) ?? brokenInvariant(`column ${b.info.name} was not decoded`);
      if (c.offsets && b.info.countBranch) {
        const prev = sharedOffsets.get(b.info.countBranch);
        if (prev && sameOffsets(prev, c.offsets)) {
          out[b.info.name] = { offsets: prev, content: c.values };
          continue;
        }
        if (!prev) sharedOffsets.set(b.info.countBranch, c.offsets);
      }
      out[b.info.name] = toColumn(c);
    }
    return out;
  }

  async close(): Promise<void> {
    this.syncFile?.close();
    await this.source.close();
  }

  /**
   * `wanted` plus, for every collection a jagged leaf of `wanted` belongs to whose list lengths in row
   * group `g` are not known yet, its stored count column (`nJet`, flat layout: 4 bytes per event).
   *
   * Nested-layout collections have no stored count: their jagged leaves read together are checked
   * against each other (checkCollections), and no other leaf is read only to check them. That sibling
   * would be a whole column chunk (Jet.btag, the cheapest Jet field, is 21 MB of the 20 M-event ZSTD file:
   * 7 % of ADL Q3's bytes, and its decompression) for a check of lists the processor never sees; a leaf
   * read alone still has its own levels checked (every page's level counts, the row group's row count).
   */
  private withReferences(g: number, wanted: readonly Wanted[]): Wanted[] {
    const out = [...wanted];
    const have = new Set(wanted.map((w) => w.leaf.columnIndex));
    for (const { leaf } of wanted) {
      const countName = leaf.info.countBranch;
      if (!countName || this.lengths.has(`${countName}\u0000${g}`)) continue;
      const count = this.storedCounts.get(countName);
      if (count && !have.has(count.columnIndex)) {
        have.add(count.columnIndex);
        out.push({ leaf: count, levelsOnly: false, reference: true });
      }
    }
    return out;
  }

  /**
   * All jagged leaves of a collection decoded for row group `g` must have the same list lengths, and
   * those of its stored count column when the file has one. The first column of a collection decoded in
   * a row group gives its lengths (the stored count first, so that errors name it); they are remembered
   * per row group as a digest, so a leaf read later (a column touched on first access) is checked too.
   */
  private checkCollections(g: number, plan: readonly Wanted[], decoded: Map<number, DecodedChunk>): void {
    // The first jagged leaf of each collection decoded here: its siblings are compared with it exactly and
    // then share its offsets array (no digest of theirs, and `finish` sees at once that they line up).
    const firstOf = new Map<string, { offsets: Int32Array; from: string }>();
    for (const counts of [true, false]) {
      for (const { leaf } of plan) {
        const stored = this.storedCounts.get(leaf.info.name)?.columnIndex === leaf.columnIndex;
        const countName = counts ? (stored ? leaf.info.name : undefined) : leaf.info.countBranch;
        const chunk = decoded.get(leaf.columnIndex);
        if (!countName || !chunk || (!counts && !chunk.offsets)) continue;
        const key = `${countName}\u0000${g}`;
        const sibling = counts ? undefined : firstOf.get(key);
        if (sibling && chunk.offsets) {
          if (sameOffsets(sibling.offsets, chunk.offsets)) {
            decoded.set(leaf.columnIndex, { offsets: sibling.offsets, values: chunk.values });
            continue;
          }
          throw new ParquetFormatError(
            `column ${leaf.info.name} (${leaf.pathInSchema.join('.')}) in row group ${g} of ${this.path} has list lengths that disagree with ${sibling.from}, another field of the same collection`,
            { file: this.path, column: leaf.info.name, reference: sibling.from, rowGroup: g },
            'the file looks corrupt; copy it again',
          );
        }
        if (!counts && chunk.offsets) firstOf.set(key, { offsets: chunk.offsets, from: leaf.info.name });
        const digest = lengthsDigest(chunk);
        const seen = this.lengths.get(key);
        if (!seen) {
          this.lengths.set(key, { digest, from: leaf.info.name });
          continue;
        }
        if (seen.digest === digest) continue;
        const other = seen.from === countName ? countName : `${seen.from}, another field of the same collection`;
        throw new ParquetFormatError(
          `column ${leaf.info.name} (${leaf.pathInSchema.join('.')}) in row group ${g} of ${this.path} has list lengths that disagree with ${other}`,
          { file: this.path, column: leaf.info.name, reference: seen.from, rowGroup: g },
          'the file looks corrupt; copy it again',
        );
      }
    }
  }

  /** Byte ranges of the column chunks of `wanted` in row group `g`, checked against the file size. */
  private rangesOf(g: number, wanted: readonly Wanted[]): [number, number][] {
    return wanted.map(({ leaf }) => {
      const meta = this.footer.column(g, leaf.columnIndex);
      if (!meta)
        throw this.formatError(`row group ${g} has no metadata for column ${leaf.pathInSchema.join('.')}`, leaf, g);
      if (meta.file_path !== undefined)
        throw new ParquetUnsupportedError(
          `column ${leaf.pathInSchema.join('.')} of row group ${g} of ${this.path} is stored in another file (${meta.file_path})`,
          { file: this.path, column: leaf.info.name, rowGroup: g, filePath: meta.file_path },
          'merge the column chunks into one file (e.g. rewrite it with pyarrow) before reading it',
        );
      const dict =
        meta.dictionary_page_offset !== undefined && meta.dictionary_page_offset > 0
          ? meta.dictionary_page_offset
          : Infinity;
      const start = Math.min(dict, meta.data_page_offset);
      const end = start + meta.total_compressed_size;
      if (start < 4 || end > this.source.size) {
        throw this.formatError(
          `column ${leaf.pathInSchema.join('.')} of row group ${g} claims bytes [${start}, ${end}) of a ${this.source.size}-byte file`,
          leaf,
          g,
        );
      }
      return [start, end];
    });
  }

  private decodeGroup(g: number, wanted: readonly Wanted[], fetched: Fetched): Map<number, DecodedChunk> {
    const numRows = this.footer.rowGroupRows[g];
    const out = new Map<number, DecodedChunk>();
    wanted.forEach(({ leaf, levelsOnly, reference }, i) => {
      const meta = this.footer.column(g, leaf.columnIndex) ?? brokenInvariant('column chunk vanished after rangesOf');
      try {
        const reuse = reference ? this.referenceBuffers.get(leaf.columnIndex) : undefined;
        const chunk = decodeChunk(fetched.bytes[i], meta, leaf, numRows, levelsOnly, reuse);
        // A count column read only as the reference of its lists is dropped after the check: the next
        // row group decodes into the same array (a 20 M-event flat file: 160 MB of nJet arrays less).
        if (reference && chunk.values.buffer !== reuse?.buffer)
          this.referenceBuffers.set(leaf.columnIndex, chunk.values);
        out.set(leaf.columnIndex, chunk);
      } catch (e) {
        const where = `column ${leaf.info.name} (${leaf.pathInSchema.join('.')}) in row group ${g} of ${this.path}`;
        const ctx = {
          file: this.path,
          column: leaf.info.name,
          pathInSchema: leaf.pathInSchema.join('.'),
          rowGroup: g,
          byteRange: fetched.ranges[i],
        };
        if (e instanceof ParquetUnsupportedError)
          throw new ParquetUnsupportedError(
            `${e.message} (${where})`,
            ctx,
            'convert the file with a writer that uses standard encodings, or skip this branch',
            { cause: e },
          );
        throw new ParquetFormatError(
          `cannot decode ${where}: ${(e as Error).message}`,
          ctx,
          'the file looks corrupt or truncated; copy it again',
          { cause: e },
        );
      }
    });
    return out;
  }

  private formatError(msg: string, leaf: LeafColumn, g: number): ParquetFormatError {
    return new ParquetFormatError(
      `${msg} (${this.path})`,
      { file: this.path, column: leaf.info.name, rowGroup: g },
      'the file looks corrupt or truncated; copy it again',
    );
  }

  private resolve(name: string): MappedBranch {
    const b = this.table.branches.get(name);
    if (b) return b;
    const skipped = this.table.skipped.get(name);
    if (skipped) {
      throw new ParquetUnsupportedError(
        `branch ${name} of ${this.path} cannot be read: ${skipped.reason}`,
        { file: this.path, branch: name },
        'drop it from the branch list',
      );
    }
    const close = closestNames(name, this.table.branches.keys());
    throw new ParquetColumnNotFoundError(
      `no branch ${name} in ${this.path}; closest: ${close.join(', ')}`,
      { file: this.path, branch: name, closest: close },
      'check the spelling; `ristretto ls FILE` lists every branch',
    );
  }

  private checkRange(start: number, stop: number): void {
    if (!isEntryRange(start, stop, this.numEntries)) {
      throw new ParquetRangeError(
        `entry range [${start}, ${stop}) is outside [0, ${this.numEntries}] of ${this.path}`,
        { file: this.path, entryStart: start, entryStop: stop, numEntries: this.numEntries },
        `ask for integers with 0 <= start <= stop <= ${this.numEntries}`,
      );
    }
  }
}

/** A leaf a read decodes; `reference`: a stored count column decoded only to check its lists (withReferences). */
type Wanted = { readonly leaf: LeafColumn; readonly levelsOnly: boolean; readonly reference?: boolean };
type Fetched = {
  readonly ranges: readonly (readonly [number, number])[];
  readonly bytes: readonly Uint8Array[];
  /** The bytes are decoded: the source may reuse their memory (ByteSource.readRanges). */
  readonly release?: () => void;
};

/** One `read` in progress: the plan, and the decoded pieces collected per leaf. */
interface ReadJob {
  readonly mapped: readonly MappedBranch[];
  readonly leaves: ReadonlyMap<number, Wanted>;
  readonly countSource: ReadonlyMap<string, number>;
  readonly pieces: Map<number, DecodedChunk[]>;
  readonly groups: readonly number[];
  readonly wanted: readonly (readonly Wanted[])[];
  readonly entryStart: number;
  readonly entryStop: number;
}

/** The decoded pieces of leaf column `k` so far; `plan` made a list for every leaf it reads. */
function piecesOf(job: ReadJob, k: number): DecodedChunk[] {
  return job.pieces.get(k) ?? brokenInvariant(`column ${k} is not part of this read`);
}

/** A 32-bit digest of the list lengths of a jagged chunk, or of the values of a count column. */
function lengthsDigest(c: DecodedChunk): number {
  let h = 0x811c9dc5;
  const o = c.offsets;
  if (o) {
    for (let i = 0; i + 1 < o.length; i++) h = Math.imul(h ^ (o[i + 1] - o[i]), 0x01000193);
    return (h ^ (o.length - 1)) >>> 0;
  }
  const v = c.values;
  for (let i = 0; i < v.length; i++) h = Math.imul(h ^ (v[i] | 0), 0x01000193);
  return (h ^ v.length) >>> 0;
}

function emptyChunk(leaf: LeafColumn, Out: new (n: number) => NumericArray): DecodedChunk {
  return leaf.maxRep ? { offsets: new Int32Array(1), values: new Out(0) } : { values: new Out(0) };
}
