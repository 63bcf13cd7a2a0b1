/**
 * RNTupleReader: the EventReader over one RNTuple. Metadata (anchor, header, footer, page lists) is
 * read by `openRNTupleAt`; `read` fetches, verifies (XXH3 when the page carries a checksum),
 * decompresses and decodes only the pages that cover the requested entries, cluster by cluster, and
 * checks collection offsets (monotone, within the content column) on every read.
 */
import type { Jagged, NumericArray } from '../../columnar/types.ts';
import { brokenInvariant, isEntryRange } from '../../errors/index.ts';
import { closestNames } from '../../errors/suggest.ts';
import type { AnyColumn, BranchDescription, BranchInfo, Column, DoublyJagged, DType, EventReader } from '../reader.ts';
import type { ByteSource } from '../source.ts';
import { BranchNotFoundError, EntryRangeError, RootFileError } from '../root/errors.ts';
import { decodePage, pageBytes, unsupportedColumn } from './columns.ts';
import { decompress, ENVELOPE, hex, readAnchor, readEnvelope, type AnchorKey } from './envelope.ts';
import { RNTupleChecksumError, RNTupleFormatError, RNTupleUnsupportedError } from './errors.ts';
import { planBranches, type BranchPlan, type ColumnSet, type FieldEntry } from './fields.ts';
import { readClusters, type ClusterDesc } from './pages.ts';
import { combineSchema, parseFooter, parseHeader, type ColumnDesc, type Header, type Schema } from './schema.ts';
import { xxh3 } from './xxh3.ts';
import { arrayTypeOf } from '../parquet/dtype.ts';

/** Copy `parts` into one array of the branch's dtype (converting when the column type differs). */
function concat(parts: readonly NumericArray[], dtype: DType): NumericArray {
  const Ctor = arrayTypeOf(dtype);
  if (parts.length === 1 && parts[0].constructor === Ctor) return parts[0];
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Ctor(n);
  let at = 0;
  for (const p of parts) {
    if (p.constructor === Ctor) out.set(p as never, at);
    else if (dtype === 'bool') for (let i = 0; i < p.length; i++) out[at + i] = p[i] ? 1 : 0;
    else for (let i = 0; i < p.length; i++) out[at + i] = p[i];
    at += p.length;
  }
  return out;
}

const PAGE_CACHE = 64;

interface ListRange {
  readonly first: number;
  readonly rel: NumericArray;
  readonly last: number;
}

/** Offsets (from 0) of the lists of several clusters, one after the other. */
function joinOffsets(ranges: readonly ListRange[]): Int32Array {
  const total = ranges.reduce((s, r) => s + r.rel.length, 0);
  const out = new Int32Array(total + 1);
  let at = 0;
  let base = 0;
  for (const r of ranges) {
    for (let i = 0; i < r.rel.length; i++) out[++at] = base + (r.rel[i] - r.first);
    base = out[at];
  }
  return out;
}

export class RNTupleReader implements EventReader {
  private readonly byName = new Map<string, BranchPlan>();
  private readonly infos: BranchInfo[] = [];
  private readonly pageCache = new Map<string, Promise<NumericArray>>();
  private closed = false;

  /** @internal Use `openRNTuple` or `openRNTupleAt`. */
  constructor(
    private readonly src: ByteSource,
    readonly treeName: string,
    readonly header: Header,
    readonly schema: Schema,
    readonly clusters: readonly ClusterDesc[],
    private readonly entries: readonly FieldEntry[],
    /** Blobs above this size are split over several keys (not supported). */
    private readonly maxKeySize = 0,
  ) {
    for (const e of entries) {
      if (e.plan && e.info) {
        this.byName.set(e.name, e.plan);
        this.infos.push(e.info);
      }
    }
  }

  get path(): string {
    return this.src.name;
  }

  get bytesRead(): number {
    return this.src.bytesRead;
  }

  get numEntries(): number {
    const last = this.clusters[this.clusters.length - 1];
    return last ? last.firstEntry + last.numEntries : 0;
  }

  branches(): readonly BranchInfo[] {
    return this.infos;
  }

  /** Cluster starts plus numEntries. */
  boundaries(): readonly number[] {
    return [...this.clusters.filter((c) => c.numEntries > 0).map((c) => c.firstEntry), this.numEntries];
  }

  /**
   * Every top-level field as a branch (the same shape as RootReader.describe): its C++ type and column
   * encodings, BranchInfo when readable, the reason when not. Fields only read through projections are
   * listed with `hidden`.
   */
  describe(): readonly BranchDescription[] {
    return this.entries.map((e) => ({
      name: e.name,
      type: e.type,
      ...(e.info ? { info: e.info } : {}),
      ...(e.unsupported ? { unsupported: e.unsupported, unsupportedKind: 'type' as const } : {}),
      ...(e.hidden ? { hidden: true } : {}),
    }));
  }

  /** Bytes of the pages a branch reads (all clusters; a collection's index column counts for each of its branches). */
  storedBytes(name: string): { compressed: number; uncompressed: number } | undefined {
    const p = this.byName.get(name);
    if (!p) return undefined;
    const sets =
      p.kind === 'flat' || p.kind === 'fixed'
        ? [p.value]
        : p.kind === 'count'
          ? [p.index]
          : p.kind === 'jagged2'
            ? [p.index, p.inner, p.value]
            : [p.index, p.value];
    return this.bytesOf(sets.flatMap((s) => s.flat()));
  }

  /** Bytes of all pages of the RNTuple. */
  totalBytes(): { compressed: number; uncompressed: number } {
    return this.bytesOf(this.schema.columns);
  }

  private bytesOf(cols: readonly ColumnDesc[]): { compressed: number; uncompressed: number } {
    let compressed = 0;
    let uncompressed = 0;
    for (const c of this.clusters) {
      for (const col of cols) {
        for (const pg of c.columns[col.id]?.pages ?? []) {
          compressed += pg.locator.nbytes;
          if (!unsupportedColumn(col.type, col.bitsOnStorage)) uncompressed += pageBytes(col.type, pg.numElements);
        }
      }
    }
    return { compressed, uncompressed };
  }

  /** RNTuple field names are unique; present for symmetry with RootReader. */
  duplicateNames(): readonly string[] {
    return [];
  }

  /** The error reading `name` throws when the RNTuple has the field but cannot decode it (see EventReader). */
  unreadable(name: string): Error | undefined {
    if (this.byName.has(name) || !this.entries.some((x) => x.name === name)) return undefined;
    try {
      this.plan(name);
    } catch (e) {
      return e as Error;
    }
    return undefined;
  }

  private plan(name: string): BranchPlan {
    const p = this.byName.get(name);
    if (p) return p;
    const e = this.entries.find((x) => x.name === name);
    if (e) {
      throw new RNTupleUnsupportedError(
        `field '${name}' of RNTuple '${this.treeName}' in ${this.path} cannot be read: ${e.unsupported} (type ${e.type})`,
        { file: this.path, tree: this.treeName, branch: name, type: e.type },
        'leave it out of the read',
      );
    }
    const suggestions = closestNames(name, this.byName.keys());
    throw new BranchNotFoundError(
      `no branch '${name}' in RNTuple '${this.treeName}' of ${this.path}; closest: ${suggestions.join(', ')}`,
      { file: this.path, tree: this.treeName, branch: name, suggestions },
      'check the spelling; `ristretto ls FILE` lists every branch',
    );
  }

  async read(names: readonly string[], entryStart: number, entryStop: number): Promise<Record<string, Column>> {
    if (this.closed)
      throw new RootFileError(
        `reader for ${this.path} is closed`,
        { file: this.path, tree: this.treeName },
        'open the file again',
      );
    if (!isEntryRange(entryStart, entryStop, this.numEntries)) {
      throw new EntryRangeError(
        `entry range [${entryStart}, ${entryStop}) is outside RNTuple '${this.treeName}' of ${this.path} (${this.numEntries} entries)`,
        { file: this.path, tree: this.treeName, entryStart, entryStop, numEntries: this.numEntries },
      );
    }
    const plans = [...new Set(names)].map((n) => this.plan(n));
    const cols = await Promise.all(plans.map((p) => this.readBranch(p, entryStart, entryStop)));
    const out: Record<string, Column> = {};
    // jagged2 branches give DoublyJagged columns, as the ROOT reader's do (the EventReader contract types them as Column)
    plans.forEach((p, i) => (out[p.name] = cols[i] as Column));
    return out;
  }

  private async readBranch(p: BranchPlan, start: number, stop: number): Promise<AnyColumn> {
    const pieces = this.clusters
      .filter((c) => c.firstEntry < stop && c.firstEntry + c.numEntries > start)
      .map((c) => ({
        c,
        a: Math.max(start, c.firstEntry) - c.firstEntry,
        b: Math.min(stop, c.firstEntry + c.numEntries) - c.firstEntry,
      }));
    if (p.kind === 'flat') {
      const parts = await Promise.all(
        pieces.map(({ c, a, b }) => this.elements(p.name, this.active(p.name, p.value, c), c, a, b, c.numEntries)),
      );
      return concat(parts, p.dtype);
    }
    if (p.kind === 'fixed') {
      // std::array<T, N> / std::bitset<N>: N elements per entry, read as lists of N
      const n = p.size;
      const parts = await Promise.all(
        pieces.map(({ c, a, b }) =>
          this.elements(p.name, this.active(p.name, p.value, c), c, a * n, b * n, c.numEntries * n),
        ),
      );
      const content = concat(parts, p.dtype);
      const entries = stop - start;
      return { offsets: Int32Array.from({ length: entries + 1 }, (_, i) => i * n), content } satisfies Jagged;
    }
    // collections: cluster-relative end offsets of each entry, then the content they cover
    const lists = await Promise.all(
      pieces.map(async ({ c, a, b }) => {
        const outer = await this.ends(p.name, p.index, c, a, b, c.numEntries);
        if (p.kind === 'count') return { outer, inner: undefined, content: undefined };
        if (p.kind === 'jagged2') {
          const inner = await this.ends(p.name, p.inner, c, outer.first, outer.last, null);
          const content = await this.elements(
            p.name,
            this.active(p.name, p.value, c),
            c,
            inner.first,
            inner.last,
            null,
          );
          return { outer, inner, content };
        }
        const content = await this.elements(p.name, this.active(p.name, p.value, c), c, outer.first, outer.last, null);
        return { outer, inner: undefined, content };
      }),
    );
    if (p.kind === 'count') {
      const total = lists.reduce((s, l) => s + l.outer.rel.length, 0);
      const out = new (arrayTypeOf(p.dtype))(total);
      let at = 0;
      for (const { outer } of lists) {
        let prev = outer.first;
        for (let i = 0; i < outer.rel.length; i++) {
          out[at++] = outer.rel[i] - prev;
          prev = outer.rel[i];
        }
      }
      return out;
    }
    const dtype = p.kind === 'string' ? 'uint8' : p.dtype;
    const content = concat(
      lists.map((l) => l.content ?? brokenInvariant(`field ${p.name} read without its elements`)),
      dtype,
    );
    const offsets = joinOffsets(lists.map((l) => l.outer));
    if (p.kind === 'jagged2') {
      const innerOffsets = joinOffsets(
        lists.map((l) => l.inner ?? brokenInvariant(`field ${p.name} read without its inner lists`)),
      );
      if (
        offsets[offsets.length - 1] !== innerOffsets.length - 1 ||
        innerOffsets[innerOffsets.length - 1] !== content.length
      ) {
        throw new RNTupleFormatError(
          `${this.path}: field '${p.name}': nested offsets do not match the values decoded`,
          { file: this.path, branch: p.name },
        );
      }
      return { offsets, content: { offsets: innerOffsets, content } } satisfies DoublyJagged;
    }
    if (content.length !== offsets[offsets.length - 1]) {
      throw new RNTupleFormatError(
        `${this.path}: field '${p.name}': offsets cover ${offsets[offsets.length - 1]} values, ${content.length} decoded`,
        { file: this.path, branch: p.name },
      );
    }
    return { offsets, content } satisfies Jagged;
  }

  /**
   * Cluster-relative end offsets of collection items [a, b) of an index column: `first` is where item a
   * starts, `rel` the ends of a..b-1, `last` the end of b-1. Checks that they never decrease.
   */
  private async ends(
    name: string,
    set: ColumnSet,
    c: ClusterDesc,
    a: number,
    b: number,
    expected: number | null,
  ): Promise<ListRange> {
    const idx = this.active(name, set, c);
    if (b <= a) return { first: 0, rel: new Float64Array(0), last: 0 };
    const ends = await this.elements(name, idx, c, a > 0 ? a - 1 : 0, b, expected);
    const first = a > 0 ? ends[0] : 0;
    const rel = a > 0 ? ends.subarray(1) : ends;
    let prev = first;
    for (let i = 0; i < rel.length; i++) {
      const v = rel[i];
      if (!(v >= prev))
        this.corrupt(name, c, `collection offsets of column ${idx.id} decrease at item ${a + i} (${prev} then ${v})`);
      prev = v;
    }
    return { first, rel, last: prev };
  }

  /** The column of `set` that is the primary representation in cluster `c`. */
  private active(name: string, set: ColumnSet, c: ClusterDesc): ColumnDesc {
    for (const rep of set) {
      const col = rep[0];
      const range = c.columns[col.id];
      if (range && !range.suppressed) return col;
    }
    return this.corrupt(name, c, `no column representation of the field is active in cluster ${c.id}`);
  }

  private corrupt(name: string, c: ClusterDesc, msg: string): never {
    throw new RNTupleFormatError(
      `${this.path}: RNTuple '${this.treeName}', field '${name}', cluster ${c.id} (entries ${c.firstEntry}-${c.firstEntry + c.numEntries}): ${msg}`,
      {
        file: this.path,
        tree: this.treeName,
        branch: name,
        cluster: c.id,
      },
      'the file is damaged',
    );
  }

  /**
   * Elements [from, to) of column `col` in cluster `c`, counted from the column's first element in the
   * cluster. `expected` is the element count the column must have in the cluster (entries, for columns
   * of top-level fields), or null.
   */
  private async elements(
    name: string,
    col: ColumnDesc,
    c: ClusterDesc,
    from: number,
    to: number,
    expected: number | null,
  ): Promise<NumericArray> {
    const range = c.columns[col.id];
    if (expected !== null && range.numElements !== expected)
      this.corrupt(name, c, `column ${col.id} has ${range.numElements} elements, expected ${expected}`);
    if (to > range.numElements)
      this.corrupt(name, c, `needs elements up to ${to} of column ${col.id}, which has ${range.numElements}`);
    // the pages covering [from, to), fetched and decoded concurrently
    const wanted: Promise<NumericArray>[] = [];
    let pageStart = 0;
    for (const [pi, page] of range.pages.entries()) {
      const pageEnd = pageStart + page.numElements;
      if (pageEnd > from && pageStart < to) {
        const lo = Math.max(from, pageStart) - pageStart;
        const hi = Math.min(to, pageEnd) - pageStart;
        wanted.push(this.page(name, col, c, pi).then((decoded) => decoded.subarray(lo, hi)));
      }
      pageStart = pageEnd;
      if (pageStart >= to) break;
    }
    const parts = await Promise.all(wanted);
    if (!parts.length) return decodePage(col.type, new Uint8Array(0), 0);
    if (parts.length === 1) return parts[0];
    const n = parts.reduce((s, p) => s + p.length, 0);
    const out = new (parts[0].constructor as new (n: number) => NumericArray)(n);
    let at = 0;
    for (const p of parts) {
      out.set(p as never, at);
      at += p.length;
    }
    return out;
  }

  private page(name: string, col: ColumnDesc, c: ClusterDesc, pi: number): Promise<NumericArray> {
    const page = c.columns[col.id].pages[pi];
    const key = `${col.id}:${page.locator.offset}:${page.locator.nbytes}`;
    let p = this.pageCache.get(key);
    if (!p) {
      p = this.loadPage(name, col, c, pi);
      this.pageCache.set(key, p);
      p.catch(() => this.pageCache.delete(key));
      if (this.pageCache.size > PAGE_CACHE) {
        const oldest = this.pageCache.keys().next();
        if (!oldest.done) this.pageCache.delete(oldest.value);
      }
    }
    return p;
  }

  private async loadPage(name: string, col: ColumnDesc, c: ClusterDesc, pi: number): Promise<NumericArray> {
    const page = c.columns[col.id].pages[pi];
    const { offset, nbytes } = page.locator;
    const end = offset + nbytes + (page.hasChecksum ? 8 : 0);
    const what = `page ${pi} of column ${col.id} (field '${name}') in cluster ${c.id}`;
    if (end > this.src.size)
      this.corrupt(
        name,
        c,
        `${what}: bytes [${offset}, ${end}) lie beyond the end of the file (${this.src.size} bytes); the file is truncated`,
      );
    if (this.maxKeySize > 0 && nbytes > this.maxKeySize) {
      throw new RNTupleUnsupportedError(
        `${this.path}: ${what} of ${nbytes} bytes is split over several keys (max key size ${this.maxKeySize})`,
        { file: this.path, branch: name },
        'pages above the maximum key size are not supported yet',
      );
    }
    const raw = await this.src.read(offset, end);
    const stored = raw.subarray(0, nbytes);
    if (page.hasChecksum) {
      const want = new DataView(raw.buffer, raw.byteOffset + nbytes, 8).getBigUint64(0, true);
      const got = xxh3(stored);
      if (want !== got) {
        throw new RNTupleChecksumError(
          `${this.path}: ${what}: checksum mismatch (stored ${hex(want)}, computed ${hex(got)})`,
          { file: this.path, tree: this.treeName, branch: name, cluster: c.id, page: pi },
          'the file is damaged',
        );
      }
    }
    const bytes = await decompress(stored, pageBytes(col.type, page.numElements), { file: this.path, what });
    return decodePage(col.type, bytes, page.numElements);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pageCache.clear();
    await this.src.close();
  }
}

/** Read the RNTuple whose anchor is `key` from an open source (metadata only; pages are read by `read`). */
export async function openRNTupleAt(src: ByteSource, key: AnchorKey): Promise<RNTupleReader> {
  const anchor = await readAnchor(src, key);
  const h = await readEnvelope(
    src,
    anchor.header,
    ENVELOPE.header,
    `header of RNTuple '${key.fName}'`,
    anchor.maxKeySize,
  );
  const header = parseHeader(h.payload);
  const f = await readEnvelope(
    src,
    anchor.footer,
    ENVELOPE.footer,
    `footer of RNTuple '${key.fName}'`,
    anchor.maxKeySize,
  );
  const footer = parseFooter(f.payload, header, h.checksum);
  const schema = combineSchema(header, footer);
  const clusters = await readClusters(src, footer.clusterGroups, h.checksum, schema.columns.length, anchor.maxKeySize);
  return new RNTupleReader(src, key.fName, header, schema, clusters, planBranches(schema), anchor.maxKeySize);
}
