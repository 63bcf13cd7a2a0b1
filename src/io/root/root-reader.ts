/**
 * The TTree reader: jsroot supplies the tree's metadata; this class plans which baskets an entry range
 * needs, fetches them through the ByteSource in a few coalesced reads, decodes and assembles columns.
 */
import type { NumericArray } from '../../columnar/types.ts';
import { adviceUnlessTold, brokenInvariant, RistrettoError } from '../../errors/index.ts';
import type { BranchDescription, BranchInfo, Column, EventReader } from '../reader.ts';
import { isUrl, type ByteSource } from '../source.ts';
import { assembleFixed, assembleJagged, fixedAsJagged, offsetsFromCounts, type BasketSlice } from './assemble.ts';
import { BasketFormatError, decodeBasket, embeddedBasket, type BasketData } from './basket.ts';
import type { BasketLocation, BranchMeta, EmbeddedLocation } from './branch-meta.ts';
import { packedDecoder } from './convert.ts';
import { assembleField, assembleStrings, assembleVariable, UnsupportedLayoutError } from './entries.ts';
import {
  BasketReadError,
  BranchNotFoundError,
  CorruptBasketError,
  EntryRangeError,
  MissingStreamerError,
  RootFileError,
  UnsupportedBranchError,
} from './errors.ts';
import { fetchRanges, fetchRangesSync, type ByteRange } from './fetch.ts';
import { LzmaNotLoadedError, loadLzma } from './compression.ts';
import { CodecError } from '../codecs/errors.ts';
import type { JsFile } from './jsroot.ts';
import type { OpenedState } from '../opened.ts';
import { BasketArena } from './scratch.ts';
import { SyncFile } from '../parquet/fetch.ts';
import { closestNames } from '../../errors/suggest.ts';

/** Where jagged branches take their per-entry sizes from. */
export type JaggedOffsetsSource = 'basket' | 'count-branch';

/** A basket (or the embedded one) and the basket-local entries of it a read needs. */
interface PlannedBasket {
  readonly loc: BasketLocation | null; // null: an embedded basket
  readonly emb: EmbeddedLocation | null;
  readonly entryStart: number;
  readonly entryStop: number;
  readonly from: number;
  readonly to: number;
}

/** Names a basket within its branch: by file offset, or by index for one embedded in the TTree. */
function basketKey(b: PlannedBasket): string | number {
  if (b.loc) return b.loc.seek;
  return `e${(b.emb ?? brokenInvariant('a basket with neither a location nor embedded bytes')).index}`;
}

/** Whether `offsets` still holds what was copied into `kept` (one native compare). */
function unchanged(offsets: Int32Array, kept: Int32Array): boolean {
  const a = Buffer.from(offsets.buffer, offsets.byteOffset, offsets.byteLength);
  return a.equals(Buffer.from(kept.buffer, kept.byteOffset, offsets.byteLength));
}

/** Ranges closer than this are fetched in one request over HTTP (a round trip costs more than the gap). */
const HTTP_COALESCE_GAP = 64 << 10;

/** `OpenedState.format` of a RootReader's tree tables. */
export const SHIPPED_TREE = 'root-tree';

/** `RootReader.openedState()`'s data: what the reader was made from, as plain data. */
export interface ShippedTree {
  readonly treeName: string;
  readonly numEntries: number;
  readonly metas: readonly BranchMeta[];
}

export class RootReader implements EventReader {
  readonly numEntries: number;
  private readonly byName: Map<string, BranchMeta>;
  private readonly infos: readonly BranchInfo[];
  private cachedBoundaries: readonly number[] | undefined;
  private closed = false;

  private readonly all: readonly BranchMeta[];
  /**
   * The offsets last handed out per count branch (nJet → Jet_pt's offsets) and their entry range: the next
   * field of that collection read over the same entries gets the same array when its counts are equal.
   * `kept` is the reader's own copy of them (a buffer reused chunk after chunk): the array handed out is
   * shared again only while it still equals that copy, so a processor that wrote into it never passes
   * its changes on to another field.
   */
  private readonly lastOffsets = new Map<
    string,
    { start: number; stop: number; offsets: Int32Array; kept: Int32Array }
  >();
  /** Memory for the decompressed baskets of one read at a time, reused by the next (columns are copies). */
  private readonly arena = new BasketArena();
  /** A local file's own synchronous descriptor, opened on the first read (see `read`). */
  private syncFile: SyncFile | undefined;
  private readonly local: boolean;

  /** @internal Use `openRoot`. */
  constructor(
    private readonly src: ByteSource,
    /** jsroot's file, or undefined when the reader was made from another thread's `openedState`. */
    private readonly file: JsFile | undefined,
    readonly treeName: string,
    numEntries: number,
    metas: readonly BranchMeta[],
    private readonly jaggedOffsets: JaggedOffsetsSource,
  ) {
    this.numEntries = numEntries;
    this.all = metas;
    this.local = !isUrl(src.name);
    // Like TTree::GetBranch, the first branch of a name wins; later ones stay listed in `describe()`.
    this.byName = new Map();
    for (const m of metas) if (!this.byName.has(m.name)) this.byName.set(m.name, m);
    this.infos = [...this.byName.values()].flatMap((m) => (m.info ? [m.info] : []));
    if (src.readSync) this.readSync = (names, entryStart, entryStop) => this.driveSync(names, entryStart, entryStop);
  }

  /**
   * Every column of the tree in tree order, readable or not, including the shadowed duplicates: name,
   * BranchInfo when readable, the reason when not (`unsupportedKind` 'streamer' when the file lacks the
   * streamer information), and `duplicate` when another branch has the same name.
   */
  describe(): readonly BranchDescription[] {
    return this.all.map((m) => ({
      name: m.name,
      type: m.typeLabel,
      ...(m.info ? { info: m.info } : {}),
      ...(m.unsupported ? { unsupported: m.unsupported, unsupportedKind: m.unsupportedKind ?? 'type' } : {}),
      ...(m.duplicate ? { duplicate: true, shadowed: this.byName.get(m.name) !== m } : {}),
    }));
  }

  /** Names that more than one branch of the tree carries (only the first of each is readable). */
  /**
   * The tree's branch and basket tables, for another thread to open the file with (`openRoot` with
   * `opened`) without importing jsroot and parsing the tree again. None when a branch keeps baskets
   * inside its object (recovered files): those hold jsroot's buffers, not plain data.
   */
  openedState(): OpenedState | undefined {
    if (this.all.some((m) => m.embedded.length > 0)) return undefined;
    const data: ShippedTree = { treeName: this.treeName, numEntries: this.numEntries, metas: this.all };
    // Roughly what a clone holds: a basket location is five numbers, a branch some strings.
    const bytes = this.all.reduce((n, m) => n + 256 + 48 * m.baskets.length, 0);
    return { format: SHIPPED_TREE, size: this.src.size, bytes, data };
  }

  duplicateNames(): readonly string[] {
    return [...new Set(this.all.filter((m) => m.duplicate).map((m) => m.name))];
  }

  get path(): string {
    return this.src.name;
  }

  get bytesRead(): number {
    return this.src.bytesRead + (this.syncFile?.bytesRead ?? 0);
  }

  branches(): readonly BranchInfo[] {
    return this.infos;
  }

  /** Union of every decodable branch's basket starts, plus numEntries; no basket is read. */
  boundaries(): readonly number[] {
    if (!this.cachedBoundaries) {
      const starts = new Set<number>([0]);
      for (const m of this.byName.values()) {
        if (!m.info) continue;
        for (const b of m.baskets) starts.add(b.entryStart);
        for (const b of m.embedded) starts.add(b.entryStart);
      }
      const sorted = [...starts].filter((e) => e < this.numEntries).sort((a, b) => a - b);
      this.cachedBoundaries = [...sorted, this.numEntries];
    }
    return this.cachedBoundaries;
  }

  /** The error reading `name` throws when the tree has the branch but cannot decode it (see EventReader). */
  unreadable(name: string): Error | undefined {
    if (this.byName.get(name)?.info !== undefined) return undefined;
    if (!this.byName.has(name)) return undefined;
    try {
      this.branchMeta(name);
    } catch (e) {
      return e as Error;
    }
    return undefined;
  }

  /** Decodable metadata of one branch, or the typed error for an unknown/unsupported name. */
  branchMeta(name: string): BranchMeta {
    const m = this.byName.get(name);
    if (!m) {
      const suggestions = closestNames(name, this.byName.keys());
      throw new BranchNotFoundError(
        `no branch '${name}' in tree '${this.treeName}' of ${this.path}; closest: ${suggestions.join(', ')}`,
        { file: this.path, tree: this.treeName, branch: name, suggestions },
        'check the spelling; `ristretto ls FILE` lists every branch',
      );
    }
    if (!m.info) {
      const E = m.unsupportedKind === 'streamer' ? MissingStreamerError : UnsupportedBranchError;
      throw new E(
        `branch '${name}' of tree '${this.treeName}' in ${this.path} cannot be read: ${m.unsupported} (type ${m.typeLabel})`,
        { file: this.path, tree: this.treeName, branch: name, type: m.typeLabel },
        'leave it out of the read, or convert the file so this branch is a simple numeric type',
      );
    }
    return m;
  }

  async read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    try {
      // A local file is read synchronously here too, as the Parquet reader does: awaiting libuv's pool
      // overlapped nothing (a chunk's baskets are one or two reads) and needed a fresh buffer per read,
      // where the synchronous read reuses one.
      if (this.local && this.readSync) return this.readSync(names, entryStart, entryStop);
      return await this.drive(names, entryStart, entryStop);
    } catch (e) {
      if (!(e instanceof LzmaNotLoadedError)) throw e;
      // The first XZ basket this thread meets: load the decoder and read again (once per thread; local
      // files load it when opened, so only remote files ever get here).
      await loadLzma();
      return this.drive(names, entryStart, entryStop);
    }
  }

  /**
   * The same read without awaiting, for a processor's first touch of a column (EventReader.readSync):
   * the baskets come from the file with fs.readSync (root:// URLs: vector reads over the relay thread,
   * src/io/xrootd/relay.ts) and decode through the same code as `read`. Set when the byte source reads
   * synchronously; http(s) files leave it undefined, so their misses go through the sync-read helper thread.
   *
   * @example
   * ```ts
   * const reader = await openRoot('Run2012B_SingleMu_10000.root');
   * const { MET_pt } = reader.readSync!(['MET_pt'], 0, 1000); // same columns as `await reader.read(...)`
   * ```
   */
  readonly readSync?: (names: readonly string[], entryStart: number, entryStop: number) => Record<string, Column>;

  /** `read`'s driver: the plan asks for byte ranges, the source fetches them asynchronously. */
  private async drive(
    names: readonly string[],
    entryStart: number,
    entryStop: number,
  ): Promise<Record<string, Column>> {
    const gap = isUrl(this.path) ? HTTP_COALESCE_GAP : 0;
    const held = this.arena.acquire();
    // The compressed bytes' memory, handed back to the source once decoded (the columns are copies).
    const releases: (() => void)[] = [];
    try {
      const g = this.readPlan(names, entryStart, entryStop, held ? this.arena.alloc : undefined);
      let step = g.next();
      while (!step.done) {
        let raw: Map<number, Uint8Array>;
        try {
          raw = await fetchRanges(this.src, step.value, gap, releases);
        } catch (e) {
          step = g.throw(e);
          continue;
        }
        step = g.next(raw);
      }
      return step.value;
    } finally {
      if (held) this.arena.release();
      for (const release of releases) release();
    }
  }

  /** `readSync`'s driver: the same plan, its byte ranges read synchronously. */
  private driveSync(names: readonly string[], entryStart: number, entryStop: number): Record<string, Column> {
    const gap = isUrl(this.path) ? HTTP_COALESCE_GAP : 0;
    const held = this.arena.acquire();
    try {
      const g = this.readPlan(names, entryStart, entryStop, held ? this.arena.alloc : undefined);
      let step = g.next();
      // The read's own baskets land in the descriptor's reused buffer; a count branch read in the middle
      // of decoding them (`withCountOffsets`) must not overwrite it, so later fetches get their own.
      let first = true;
      while (!step.done) {
        let raw: Map<number, Uint8Array>;
        try {
          raw = this.local ? this.fetchLocal(step.value, first) : fetchRangesSync(this.src, step.value, gap);
          first = false;
        } catch (e) {
          step = g.throw(e);
          continue;
        }
        step = g.next(raw);
      }
      return step.value;
    } finally {
      if (held) this.arena.release();
    }
  }

  /**
   * Byte ranges of a local file through the reader's own descriptor; `transient`: into its reused buffer,
   * which the next transient fetch overwrites.
   */
  private fetchLocal(ranges: readonly ByteRange[], transient: boolean): Map<number, Uint8Array> {
    this.syncFile ??= SyncFile.open(this.path);
    const got = this.syncFile.readRanges(
      ranges.map((r) => [r.start, r.end] as const),
      transient,
    );
    const out = new Map<number, Uint8Array>();
    ranges.forEach((r, i) => out.set(r.start, got[i]));
    return out;
  }

  /**
   * One read as a generator, so that the async and the sync read share every step but the fetch: it
   * yields the byte ranges of the baskets it needs and is resumed with their bytes (or, via `throw`, with
   * the fetch's error); a jagged branch without offset tables yields again for its count branch.
   * `alloc` gives the decompressed baskets memory that lives until the driver's read ends.
   */
  private *readPlan(
    names: readonly string[],
    entryStart: number,
    entryStop: number,
    alloc?: (n: number) => Uint8Array,
  ): Generator<ByteRange[], Record<string, Column>, Map<number, Uint8Array>> {
    if (this.closed)
      throw new RootFileError(
        `reader for ${this.path} is closed`,
        { file: this.path, tree: this.treeName },
        'open the file again',
      );
    this.checkRange(entryStart, entryStop);
    const metas = [...new Set(names)].map((n) => this.branchMeta(n));
    const plans = metas.map((m) => ({ meta: m, baskets: this.plan(m, entryStart, entryStop) }));

    const locs = plans.flatMap((p) => p.baskets.flatMap((b) => (b.loc ? [{ meta: p.meta, loc: b.loc }] : [])));
    for (const { meta, loc } of locs) {
      if (loc.seek < 0 || loc.seek + loc.bytes > this.src.size) {
        throw this.basketError(
          meta,
          loc.index,
          loc.entryStart,
          loc.entryStop,
          `bytes [${loc.seek}, ${loc.seek + loc.bytes}) lie beyond the end of the file (${this.src.size} bytes); the file is truncated`,
          loc.seek,
        );
      }
    }
    let raw: Map<number, Uint8Array>;
    try {
      raw = yield locs.map(({ loc }) => ({ start: loc.seek, end: loc.seek + loc.bytes }));
    } catch (e) {
      const branches = metas.map((m) => m.name);
      throw new BasketReadError(
        `cannot fetch baskets of ${branches.join(', ')} (tree '${this.treeName}', entries [${entryStart}, ${entryStop})) from ${this.path}: ${(e as Error).message}`,
        { file: this.path, tree: this.treeName, branches, entryStart, entryStop },
        adviceUnlessTold(
          e,
          isUrl(this.path)
            ? 'check that the server is up, then retry the read'
            : 'check that the file is still readable',
        ),
        { cause: e },
      );
    }

    const out: Record<string, Column> = {};
    const n = entryStop - entryStart;
    // Leaf-list fields share their branch's baskets: decode each basket once per read.
    const decoded = new Map<string, BasketData>();
    for (const { meta, baskets } of plans) {
      const layout = meta.layout ?? brokenInvariant(`branch ${meta.name} planned without a layout`);
      const variable = layout.kind === 'counted' || layout.kind === 'vector' || layout.kind === 'vector2';
      const useCounts = layout.kind === 'counted' && this.jaggedOffsets === 'count-branch';
      const wantOffsets = (variable || layout.kind === 'string') && meta.hasEntryOffsets && !useCounts;
      // assembleJagged reads a stored entry-offset table in place; the other layouts want it decoded.
      const simpleJagged = layout.kind === 'counted' && layout.header === 0 && !layout.packed;
      const slices: BasketSlice[] = [];
      for (const b of baskets) {
        const key = `${meta.branchName}\0${basketKey(b)}\0${wantOffsets}\0${simpleJagged}`;
        let data = decoded.get(key);
        if (!data) decoded.set(key, (data = this.decode(meta, b, raw, wantOffsets, simpleJagged, alloc)));
        // No offset table (not written, or `count-branch` asked for): sizes come from the count branch.
        if (layout.kind === 'counted' && !data.offsets && !data.table)
          data = yield* this.withCountOffsets(meta, b, data, layout.itemSize, layout.header, alloc);
        slices.push({ basket: data, from: b.from, to: b.to });
      }
      try {
        const info = meta.info ?? brokenInvariant(`branch ${meta.name} planned without its info`);
        if (simpleJagged) {
          const count = info.countBranch;
          const last = count === undefined ? undefined : this.lastOffsets.get(count);
          const share =
            last && last.start === entryStart && last.stop === entryStop && unchanged(last.offsets, last.kept)
              ? last.offsets
              : undefined;
          const col = assembleJagged(info.dtype, layout.itemSize, slices, n, share);
          if (count !== undefined && col.offsets !== share) {
            let kept = last?.kept;
            if (!kept || kept.length < col.offsets.length) kept = new Int32Array(col.offsets.length);
            kept.set(col.offsets);
            this.lastOffsets.set(count, { start: entryStart, stop: entryStop, offsets: col.offsets, kept });
          }
          out[meta.name] = col;
        } else if (layout.kind === 'string')
          out[meta.name] = assembleStrings(layout.header, slices, n, layout.eitherHeader);
        else if (variable) {
          const decoder = layout.kind === 'counted' && layout.packed ? packedDecoder(layout.packed) : undefined;
          out[meta.name] = assembleVariable(
            layout.kind,
            info.dtype,
            layout.itemSize,
            layout.kind === 'counted' ? layout.header : 0,
            slices,
            n,
            decoder,
          ) as Column;
        } else if (layout.kind === 'field') {
          const values = assembleField(
            info.dtype,
            layout.itemSize,
            layout.perEntry,
            layout.recordBytes,
            layout.offset,
            slices,
            n,
          );
          out[meta.name] = info.kind === 'jagged' ? fixedAsJagged(values, layout.perEntry, n) : values;
        } else {
          const values = assembleFixed(
            info.dtype,
            layout.itemSize,
            layout.perEntry,
            slices,
            n,
            layout.packed ? packedDecoder(layout.packed) : undefined,
          );
          out[meta.name] = info.kind === 'jagged' ? fixedAsJagged(values, layout.perEntry, n) : values;
        }
      } catch (e) {
        if (e instanceof UnsupportedLayoutError) {
          throw new UnsupportedBranchError(
            `branch '${meta.name}' of tree '${this.treeName}' in ${this.path} cannot be read: ${e.message} (type ${meta.typeLabel})`,
            { file: this.path, tree: this.treeName, branch: meta.name, type: meta.typeLabel },
            'leave it out of the read',
          );
        }
        const first = baskets[0];
        const last = baskets[baskets.length - 1];
        throw this.basketError(
          meta,
          first?.loc?.index ?? first?.emb?.index ?? -1,
          first?.entryStart ?? entryStart,
          last?.entryStop ?? entryStop,
          (e as Error).message,
          undefined,
          e,
          !first?.loc,
        );
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.syncFile?.close();
    this.file?.delete?.();
    await this.src.close();
  }

  private checkRange(start: number, stop: number): void {
    if (!Number.isInteger(start) || !Number.isInteger(stop) || start < 0 || stop < start || stop > this.numEntries) {
      throw new EntryRangeError(
        `entry range [${start}, ${stop}) is not within tree '${this.treeName}' of ${this.path} (${this.numEntries} entries)`,
        { file: this.path, tree: this.treeName, entryStart: start, entryStop: stop, numEntries: this.numEntries },
        `use integers 0 <= start <= stop <= ${this.numEntries}`,
      );
    }
  }

  /** Baskets (on disk and embedded, in entry order) overlapping [start, stop), checked to cover it without gaps. */
  private plan(m: BranchMeta, start: number, stop: number): PlannedBasket[] {
    const out: PlannedBasket[] = [];
    if (start === stop) return out;
    const all: { loc: BasketLocation | null; emb: EmbeddedLocation | null; entryStart: number; entryStop: number }[] = m
      .embedded.length
      ? [
          ...m.baskets.map((b) => ({ loc: b, emb: null, entryStart: b.entryStart, entryStop: b.entryStop })),
          ...m.embedded.map((e) => ({ loc: null, emb: e, entryStart: e.entryStart, entryStop: e.entryStop })),
        ].sort((a, b) => a.entryStart - b.entryStart)
      : m.baskets.map((b) => ({ loc: b, emb: null, entryStart: b.entryStart, entryStop: b.entryStop }));
    // First basket whose entryStop is past `start` (baskets are in entry order).
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (all[mid].entryStop <= start) lo = mid + 1;
      else hi = mid;
    }
    let next = start;
    for (let k = lo; k < all.length && all[k].entryStart < stop; k++) {
      const b = all[k];
      if (b.entryStart > next) break;
      out.push({ ...b, from: next - b.entryStart, to: Math.min(stop, b.entryStop) - b.entryStart });
      next = Math.min(stop, b.entryStop);
    }
    if (next < stop) {
      throw new CorruptBasketError(
        `entries [${next}, ${stop}) of branch '${m.name}' (tree '${this.treeName}', ${this.path}) are in no basket (the branch has ${m.entries} entries, the tree ${this.numEntries})`,
        { file: this.path, tree: this.treeName, branch: m.name, entryStart: next, entryStop: stop },
        'the file is damaged or was not closed properly; recover it with ROOT or read a shorter range',
      );
    }
    return out;
  }

  private decode(
    m: BranchMeta,
    b: PlannedBasket,
    raw: Map<number, Uint8Array>,
    wantOffsets: boolean,
    rawEntryTable: boolean,
    alloc?: (n: number) => Uint8Array,
  ): BasketData {
    try {
      let data: BasketData;
      if (b.emb) data = embeddedBasket(b.emb.basket, wantOffsets);
      else {
        const loc = b.loc ?? brokenInvariant('a basket with neither a location nor embedded bytes');
        data = decodeBasket(
          raw.get(loc.seek) ?? brokenInvariant(`basket at ${loc.seek} was not fetched`),
          {
            branch: m.branchName,
            bytes: loc.bytes,
            entries: b.entryStop - b.entryStart,
            hasEntryOffsets: wantOffsets,
            rawEntryTable,
          },
          alloc,
        );
      }
      if (data.entries !== b.entryStop - b.entryStart)
        throw new BasketFormatError(
          `basket holds ${data.entries} entries, the branch says ${b.entryStop - b.entryStart}`,
        );
      return data;
    } catch (e) {
      if (e instanceof LzmaNotLoadedError) throw e; // not damage: `read` loads the decoder and retries
      throw this.basketError(
        m,
        b.loc?.index ?? b.emb?.index ?? -1,
        b.entryStart,
        b.entryStop,
        (e as Error).message,
        b.loc?.seek,
        e,
        !b.loc,
      );
    }
  }

  private *withCountOffsets(
    m: BranchMeta,
    b: PlannedBasket,
    data: BasketData,
    itemSize: number,
    header: number,
    alloc?: (n: number) => Uint8Array,
  ): Generator<ByteRange[], BasketData, Map<number, Uint8Array>> {
    const countName = m.info?.countBranch ?? brokenInvariant(`counted branch ${m.name} without its count branch`);
    const counts = (yield* this.readPlan([countName], b.entryStart, b.entryStop, alloc))[countName] as NumericArray;
    try {
      return { ...data, offsets: offsetsFromCounts(counts, itemSize, data.data.length, header) };
    } catch (e) {
      throw this.basketError(
        m,
        b.loc?.index ?? b.emb?.index ?? -1,
        b.entryStart,
        b.entryStop,
        `${(e as Error).message} (count branch '${countName}')`,
        b.loc?.seek,
        e,
        !b.loc,
      );
    }
  }

  private basketError(
    m: BranchMeta,
    basket: number,
    entryStart: number,
    entryStop: number,
    why: string,
    seek?: number,
    cause?: unknown,
    embedded = false,
  ): RistrettoError {
    // A codec's error knows the bytes, not the file: it is wrapped like any internal error.
    if (cause instanceof RistrettoError && !(cause instanceof CodecError)) return cause;
    const where = embedded ? `embedded basket ${basket}` : `basket ${basket}`;
    return new CorruptBasketError(
      `branch '${m.name}' of tree '${this.treeName}' in ${this.path}, ${where} (entries [${entryStart}, ${entryStop})${seek !== undefined ? `, file byte ${seek}` : ''}): ${why}`,
      { file: this.path, tree: this.treeName, branch: m.name, basket, entryStart, entryStop, seek },
      'the file is damaged; copy it again from its source',
      cause === undefined ? undefined : { cause },
    );
  }
}
